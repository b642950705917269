"""Pooling arithmetic on synthetic arrays, pooling-layer lookup, and max/avg pair matching."""

from pathlib import Path

import numpy as np
import pytest

from kmnist import pooling
from kmnist.store import ModelEntry

MAP = np.array([[1, 2, 0, 0],
                [3, 4, 0, 8],
                [-1, -1, 5, 5],
                [-1, -5, 5, 5]], dtype="float32")


def test_pool2x2_max_and_average_by_hand():
    assert pooling.pool2x2(MAP, "max").tolist() == [[4, 8], [-1, 5]]
    assert pooling.pool2x2(MAP, "avg").tolist() == [[2.5, 2], [-2, 5]]


def test_pool2x2_drops_an_odd_edge_and_pools_channels_separately():
    odd = np.arange(25, dtype=float).reshape(5, 5)
    assert pooling.pool2x2(odd, "max").tolist() == [[6, 8], [16, 18]]
    stacked = np.stack([MAP, -MAP], axis=-1)
    pooled = pooling.pool2x2(stacked, "max")
    assert pooled.shape == (2, 2, 2)
    assert pooled[..., 1].tolist() == [[-1, 0], [5, -5]]


def test_pool2x2_matches_keras_layers():
    import keras

    rng = np.random.default_rng(0)
    maps = rng.normal(size=(1, 7, 9, 3)).astype("float32")
    for mode, layer in (("max", keras.layers.MaxPooling2D(2)), ("avg", keras.layers.AveragePooling2D(2))):
        np.testing.assert_allclose(pooling.pool2x2(maps[0], mode), np.asarray(layer(maps))[0], atol=1e-6)


def test_pool2x2_rejects_bad_input():
    with pytest.raises(ValueError, match="'max' or 'avg'"):
        pooling.pool2x2(MAP, "min")
    with pytest.raises(ValueError, match="H, W >= 2"):
        pooling.pool2x2(np.zeros(4), "max")


def test_window_values_max_mean_and_position():
    window = pooling.window(MAP, 0, 1)
    assert window.values.tolist() == [[0, 0], [0, 8]]
    assert (window.max, window.mean) == (8.0, 2.0)
    assert (window.input_rows, window.input_cols) == ((0, 1), (2, 3))
    assert window.max == pooling.pool2x2(MAP, "max")[0, 1]
    assert window.mean == pooling.pool2x2(MAP, "avg")[0, 1]
    with pytest.raises(ValueError, match="outside the 2x2 pooled map"):
        pooling.window(MAP, 2, 0)


def test_telling_window_and_liveliest_channel():
    assert pooling.telling_window(MAP) == (0, 1)  # max 8 vs mean 2: the biggest disagreement
    maps = np.zeros((4, 4, 3))
    maps[..., 2] = MAP
    assert pooling.liveliest_channel(maps) == 2


@pytest.mark.parametrize("architecture, source", [("studio", "conv2"), ("classic", "conv2")])
def test_pooled_input_and_kind_found_by_type(architecture, source):
    from kmnist.model import build_model

    for mode in ("max", "avg"):
        model = build_model(mode, architecture)
        assert pooling.pooled_input_name(model) == source
        assert pooling.pooling_kind(model) == mode
        assert pooling.pooling_layers(model)[0].name == "pool1"


def entry(tmp_path: Path, name: str, card: dict | None) -> ModelEntry:
    path = tmp_path / f"{name}.keras"
    path.write_bytes(b"x")
    return ModelEntry(name, path, card)


def card(pooling_mode, seed=0, epochs=2, accuracy=0.9):
    return {"config": {"pooling": pooling_mode, "seed": seed, "epochs": epochs}, "parameters": 1000,
            "training_seconds": 12.5, "best_epoch": 2, "status": "complete",
            "test": {"accuracy": accuracy, "macro_auc": 0.99, "loss": 0.3},
            "history": [{"kind": "epoch", "epoch": 1, "loss": 1.0},
                        {"kind": "epoch", "epoch": 2, "loss": 0.5}]}


def test_find_pairs_matches_configs_that_differ_only_in_pooling(tmp_path):
    entries = [entry(tmp_path, "a-max", card("max", seed=1)), entry(tmp_path, "a-avg", card("avg", seed=1)),
               entry(tmp_path, "studio-avg", card("avg")), entry(tmp_path, "studio-max", card("max")),
               entry(tmp_path, "lonely-max", card("max", seed=7)),
               entry(tmp_path, "other-avg", card("avg", epochs=5)),
               entry(tmp_path, "nocard", None)]
    pairs = pooling.find_pairs(entries)
    assert [(m.name, a.name) for m, a in pairs] == [("studio-max", "studio-avg"), ("a-max", "a-avg")]
    assert pooling.twin_key(card("max")) == pooling.twin_key(card("avg"))
    assert pooling.twin_key(None) is None


def test_comparison_rows_and_history_records():
    cards = {"m": card("max", accuracy=0.91), "a": card("avg", accuracy=0.89)}
    rows = pooling.comparison_rows(cards)
    assert [r["pooling"] for r in rows] == ["max", "average"]
    assert rows[0]["test accuracy"] == 0.91 and rows[1]["training time (s)"] == 12.5
    assert rows[0]["parameters"] == 1000 and rows[0]["epochs run"] == 2
    records = pooling.history_records(cards)
    assert [(r["run"], r["epoch"]) for r in records] == [("m", 1), ("m", 2), ("a", 1), ("a", 2)]
