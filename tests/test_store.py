"""kmnist.registry.store and pairs: atomic saving, cards, loading checks, listing a folder, max/avg pairs."""

import errno
import json
from pathlib import Path

import keras
import numpy as np
import pytest

from kmnist.network.architectures import build_model
from kmnist.registry import atomic as atomic_registry
from kmnist.registry import pairs as pairs_registry
from kmnist.registry import store
from kmnist.registry.cards import Card, Status, TestMetrics
from kmnist.registry.errors import ModelError
from kmnist.registry.store import ModelEntry
from tests.conftest import sample_card as card


@pytest.fixture(scope="module")
def small_model():
    return build_model("max", "classic")


def test_save_and_load_round_trip_with_card(tmp_path, small_model):
    path = tmp_path / "m.keras"
    store.save_model(small_model, path, {"status": "complete", "test": {"accuracy": 0.5}})
    loaded = store.load_model(path)
    image = np.random.default_rng(0).random((1, 28, 28, 1)).astype("float32")
    assert np.allclose(loaded(image), small_model(image), atol=1e-6)
    assert store.read_card(path) == Card(status=Status.COMPLETE, test=TestMetrics(accuracy=0.5))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.card.json", "m.keras"]


def test_disk_full_while_saving_keeps_the_previous_model(tmp_path, small_model, monkeypatch):
    path = tmp_path / "m.keras"
    store.save_model(small_model, path, {"status": "complete"})
    before = path.read_bytes()

    def full_disk(self, filepath, *args, **kwargs):
        with open(filepath, "wb") as handle:
            handle.write(b"half a model")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(keras.Model, "save", full_disk)
    with pytest.raises(ModelError, match="No space left on device.*previous file.*unchanged"):
        store.save_model(small_model, path, {"status": "new"})
    assert path.read_bytes() == before and store.read_card(path).status is Status.COMPLETE
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.card.json", "m.keras"]


def test_unwritable_folder_is_reported(tmp_path, small_model, monkeypatch):
    def denied(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(atomic_registry.tempfile, "mkstemp", denied)
    with pytest.raises(ModelError, match="cannot write to .*Permission denied.*writable"):
        store.save_model(small_model, tmp_path / "m.keras")


def test_corrupt_keras_file(tmp_path):
    path = tmp_path / "broken.keras"
    path.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(ModelError, match="broken.keras is corrupt or not a Keras model"):
        store.load_model(path)


def test_model_of_another_shape_is_refused(tmp_path):
    inputs = keras.Input((32, 32, 3))
    other = keras.Model(inputs, keras.layers.Dense(5)(keras.layers.Flatten()(inputs)))
    other.save(tmp_path / "other.keras")
    with pytest.raises(ModelError, match=r"takes \(32, 32, 3\) and gives \(5,\)"):
        store.load_model(tmp_path / "other.keras")


def test_listing_reports_missing_cards_orphan_cards_and_interrupted_runs(tmp_path, small_model):
    store.save_model(small_model, tmp_path / "studio-max.keras", {"status": "complete"})
    store.save_model(small_model, tmp_path / "nocard.keras")
    store.write_card(tmp_path / "ghost.keras", {"status": "complete"})
    store.save_model(small_model, tmp_path / "crashed.keras", {"status": "training", "best_epoch": 3})
    (tmp_path / "badcard.keras").write_bytes(b"x")
    (tmp_path / "badcard.card.json").write_text("{not json")
    entries = {e.name: e for e in store.list_models(tmp_path)}
    assert list(entries)[0] == store.DEFAULT_MODEL
    assert entries["studio-max"].problem is None and entries["studio-max"].usable
    assert "no model card" in entries["nocard"].problem
    assert "has no model file" in entries["ghost"].problem and not entries["ghost"].usable
    assert "interrupted" in entries["crashed"].problem and "epoch 3" in entries["crashed"].problem
    assert "unreadable" in entries["badcard"].problem


def test_card_without_model_cannot_be_loaded(tmp_path):
    store.write_card(tmp_path / "ghost.keras", {"status": "complete"})
    with pytest.raises(ModelError, match="not found .*card ghost.card.json exists"):
        store.load_model(tmp_path / "ghost.keras")


@pytest.mark.parametrize("name", ["", "../evil", "a b", "x" * 80, ".hidden"])
def test_unsafe_names_are_rejected(name):
    with pytest.raises(ModelError, match="not allowed"):
        store.check_name(name)


def test_cards_are_utf8_json(tmp_path):
    store.write_card(tmp_path / "m.keras", {"classes": "おきすつなはまやれを"})
    assert "おき" in (tmp_path / "m.card.json").read_text(encoding="utf-8")
    assert json.loads((tmp_path / "m.card.json").read_text())["classes"][0] == "お"


def test_model_path_names_the_keras_file_in_the_models_folder(tmp_path, monkeypatch):
    assert store.model_path("duo-max", tmp_path) == tmp_path / "duo-max.keras"
    monkeypatch.setenv(store.MODELS_ENV, str(tmp_path / "elsewhere"))
    assert store.model_path("m") == tmp_path / "elsewhere" / "m.keras"
    assert store.card_path(store.model_path("m")).name == "m.card.json"


def test_free_name_skips_models_and_orphan_cards(tmp_path, small_model):
    assert store.free_name("mine", tmp_path) == "mine"
    store.save_model(small_model, tmp_path / "mine.keras")
    store.write_card(tmp_path / "mine-2.keras", {"status": "complete"})
    assert store.free_name("mine", tmp_path) == "mine-3"


def test_model_summary_row_says_what_data_trained_it(tmp_path, small_model):
    card = {"status": "complete", "test": {"accuracy": 0.9},
            "data": {"official": False, "used": {"train": 5600}}}
    store.save_model(small_model, tmp_path / "m.keras", card)
    store.save_model(small_model, tmp_path / "bare.keras")
    rows = {e.name: e.summary() for e in store.list_models(tmp_path)}
    assert rows["m"] == {"model": "m", "status": "complete", "test accuracy": 0.9,
                         "trained on": "not official copy, 5,600 train images", "problem": ""}
    assert rows["bare"]["trained on"] == "unknown" and "no model card" in rows["bare"]["problem"]


def entry(tmp_path: Path, name: str, card: dict | None) -> ModelEntry:
    path = tmp_path / f"{name}.keras"
    path.write_bytes(b"x")
    return ModelEntry(name, path, None if card is None else Card.from_dict(card))


def test_find_pairs_matches_configs_that_differ_only_in_pooling(tmp_path):
    entries = [entry(tmp_path, "a-max", card("max", seed=1)), entry(tmp_path, "a-avg", card("avg", seed=1)),
               entry(tmp_path, "studio-avg", card("avg")), entry(tmp_path, "studio-max", card("max")),
               entry(tmp_path, "lonely-max", card("max", seed=7)),
               entry(tmp_path, "other-avg", card("avg", epochs=5)),
               entry(tmp_path, "nocard", None)]
    pairs = pairs_registry.find_pairs(entries)
    assert [(m.name, a.name) for m, a in pairs] == [("studio-max", "studio-avg"), ("a-max", "a-avg")]
    key = pairs_registry.pair_key
    assert key(Card.from_dict(card("max"))) == key(Card.from_dict(card("avg"))) is not None
    assert key(Card.from_dict(card("max", seed=3))) != key(Card.from_dict(card("avg")))
    assert key(None) is None and key(Card.from_dict({"config": {"seed": 1}})) is None  # no pooling


def test_the_pair_naming_rule_is_prefix_dash_pooling(tmp_path):
    assert pairs_registry.PAIR_SUFFIXES == ("-max", "-avg")
    assert [pairs_registry.pair_name("duo", p) for p in ("max", "avg")] == ["duo-max", "duo-avg"]
    assert pairs_registry.pair_prefix("duo-avg") == "duo" and pairs_registry.pair_prefix("a-b-max") == "a-b"
    assert pairs_registry.pair_prefix("duomax") is None and pairs_registry.pair_prefix("-max") is None
    assert pairs_registry.DEFAULT_PAIR == "studio"  # the shipped studio-max and studio-avg
    entry(tmp_path, "pair-avg", card("avg"))  # one of the two names is enough to take a prefix
    entry(tmp_path, "pair-2-max", card("max"))
    taken = store.list_models(tmp_path)
    assert pairs_registry.free_prefix("pair", taken) == "pair-3"
    assert pairs_registry.free_prefix("duo", taken) == "duo"


def test_find_pairs_prefers_the_avg_model_named_by_the_rule(tmp_path):
    entries = [entry(tmp_path, "x-avg", card("avg")), entry(tmp_path, "duo-avg", card("avg")),
               entry(tmp_path, "duo-max", card("max"))]
    assert [(m.name, a.name) for m, a in pairs_registry.find_pairs(entries)] == [("duo-max", "duo-avg")]
    entries[1] = entry(tmp_path, "other-avg", card("avg"))  # no duo-avg: the first avg model with its config
    assert [(m.name, a.name) for m, a in pairs_registry.find_pairs(entries)] == [("duo-max", "x-avg")]
