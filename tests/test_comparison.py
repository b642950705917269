"""kmnist.evaluation.comparison (runs compared by their cards) and .confusion (the cells a click picks)."""

import numpy as np
import pytest

from kmnist.charts import style
from kmnist.charts import training as training_charts
from kmnist.evaluation import comparison, confusion
from kmnist.registry.cards import Card
from tests.conftest import sample_card


def typed(runs: dict) -> dict:
    """The Cards of `runs` (card dicts by model name), as store.read_card gives them."""
    return {name: Card.from_dict(card) for name, card in runs.items()}


def three_runs():
    base = sample_card("max", seed=1, epochs=5, accuracy=0.9)
    base["config"] |= {"learning_rate": 0.003, "augment": True, "limit": None}
    base["data"] = {"name": "kmnist-offline", "official": False}
    other_seed = {**base, "config": {**base["config"], "seed": 2}}
    no_augment = {**base, "config": {**base["config"], "augment": False, "learning_rate": 0.001}}
    return typed({"a": base, "b": other_seed, "c": no_augment})


def test_exactly_the_differing_settings_are_listed_and_the_rest_noted_as_shared():
    differ, shared = comparison.settings_compared(three_runs())
    assert differ == [{"setting": "learning_rate", "a": "0.003", "b": "0.003", "c": "0.001"},
                      {"setting": "augment", "a": "on", "b": "on", "c": "off"},
                      {"setting": "seed", "a": "1", "b": "2", "c": "1"}]
    assert shared == {"pooling": "max", "epochs": "5", "limit": "all",
                      "data": "kmnist-offline (not official)",
                      **{name: comparison.MISSING for name in ("architecture", "batch_size", "optimizer",
                                                                 "dropout", "label_smoothing",
                                                                 "stroke_thickness", "val_fraction",
                                                                 "patience")}}
    note = comparison.shared_note({"pooling": "max", "epochs": "5"})
    assert note == "Shared by all: pooling = max, epochs = 5."


def test_twins_differ_only_in_pooling_and_a_missing_setting_counts_as_a_difference():
    twins = {"m": sample_card("max"), "v": sample_card("avg")}
    assert [row["setting"] for row in comparison.settings_compared(typed(twins))[0]] == ["pooling"]
    del twins["v"]["config"]["seed"]
    differ = comparison.settings_compared(typed(twins))[0]
    assert differ[-1] == {"setting": "seed", "m": "0", "v": comparison.MISSING}
    assert comparison.settings_compared(typed({"m": sample_card("max"), "n": sample_card("max")}))[0] == []


def test_metrics_and_per_class_rows_are_formatted_side_by_side():
    runs = {"m": sample_card("max", accuracy=0.9125), "v": sample_card("avg", accuracy=0.89)}
    runs["m"] |= {"parameters": 325_018, "validation": {"val_accuracy": 0.95}}
    runs["m"]["test"]["per_class_accuracy"] = [0.5, 1.0, *[0.9] * 7, float("nan")]
    runs = typed(runs)
    rows = comparison.metrics_rows(runs)
    assert [row["model"] for row in rows] == ["m", "v"]
    assert rows[0]["test accuracy"] == "91.2%" and rows[1]["test accuracy"] == "89.0%"
    assert rows[0]["parameters"] == "325,018" and rows[0]["validation accuracy"] == "95.0%"
    assert rows[1]["validation accuracy"] == comparison.MISSING and rows[0]["training time"] == "12.5 s"
    assert rows[0]["macro AUC"] == "0.9900" and rows[0]["epochs run"] == "2"
    classes = comparison.per_class_rows(runs)  # one row per model, so any number of them stays in view
    assert [row["model"] for row in classes] == ["m", "v"] and list(classes[0])[1:] == style.CLASS_NAMES
    assert classes[0]["お (o)"] == "50.0%" and classes[1]["お (o)"] == comparison.MISSING
    assert classes[0]["き (ki)"] == "100.0%" and classes[0]["を (wo)"] == comparison.MISSING  # NaN: no image
    figure = training_charts.per_class_comparison(comparison.per_class_accuracy(runs))
    assert [trace.name for trace in figure.data] == ["m", "v"]


def test_percentages_that_differ_never_read_alike():
    assert comparison.places_to_tell_apart([0.9750, 0.9755]) == 2    # 97.5 % and 97.5 % at one decimal
    assert comparison.places_to_tell_apart([0.9750, 0.9760, None, float("nan")]) == 1
    assert comparison.places_to_tell_apart([0.9750, 0.9750]) == 1    # equal values may read alike
    runs = typed({"m": sample_card("max", accuracy=0.9750), "v": sample_card("avg", accuracy=0.9755)})
    assert [row["test accuracy"] for row in comparison.metrics_rows(runs)] == ["97.50%", "97.55%"]


def test_the_verdict_calls_accuracies_that_read_alike_equal_and_names_a_gap_otherwise():
    # 95.041 % and 95.044 % differ, but read 95.04 % both at the two decimals shown: no gap to explain
    same = comparison.accuracy_verdict({"p-max": 0.95041, "p-avg": 0.95044}, "pooling")
    assert same == ("Both read the same test accuracy, 95.04%: at this precision they are equal, so pooling "
                    "made no difference that shows on these test images.")
    assert comparison.accuracy_verdict({"a": 0.9, "b": 0.9, "c": 0.9}).startswith("All 3 read the same")
    assert "gap" not in comparison.accuracy_verdict({"a": 0.9, "b": 0.9}) and "pooling" not in same[:40]
    gap = comparison.accuracy_verdict({"p-max": 0.9504, "p-avg": 0.9361, "x": None}, "pooling")
    assert gap == ("p-max is ahead of p-avg by 1.4 points of test accuracy (95.0% against 93.6%): a gap that "
                   "comes from pooling and training noise.")
    assert comparison.accuracy_verdict({"a": 0.9750, "b": 0.9755}).endswith(
        "by 0.05 points of test accuracy (97.55% against 97.50%): a gap that comes from training noise.")
    assert comparison.accuracy_verdict({"a": 0.9, "b": None}) is None


def test_curve_records_tag_each_epoch_with_its_run():
    records = comparison.curve_records(typed({"m": sample_card("max"), "a": sample_card("avg")}))
    assert [(r["run"], r["epoch"], r["kind"]) for r in records] == [
        ("m", 1, "epoch"), ("m", 2, "epoch"), ("a", 1, "epoch"), ("a", 2, "epoch")]
    figure = training_charts.training_curves(records)
    assert {trace.name.split(" · ")[0] for trace in figure.data} == {"m", "a"}


def test_confusion_cells_hold_their_images_and_a_clicked_point_names_its_cell():
    labels = np.array([0, 0, 1, 1, 1, 2])
    predicted = np.array([0, 1, 1, 1, 0, 2])
    counts = confusion.matrix(labels, predicted)
    assert counts[0][:3] == [1, 1, 0] and counts[1][:3] == [1, 2, 0] and sum(map(sum, counts)) == 6
    assert confusion.members(labels, predicted, confusion.Cell(1, 1)).tolist() == [2, 3]
    assert confusion.members(labels, predicted, confusion.Cell(1, 0)).tolist() == [4]
    assert confusion.members(labels, predicted, confusion.Cell(2, 0)).size == 0
    with pytest.raises(ValueError, match="differ in shape"):
        confusion.members(labels, predicted[:3], confusion.Cell(0, 0))
    # the chart's clickable markers follow CELLS, so a point's index is its cell
    figure = training_charts.clickable_confusion(counts)
    markers = figure.data[1]
    assert len(markers.x) == 100 and markers.customdata[confusion.Cell(1, 1).index] == 2
    assert markers.y[confusion.Cell(1, 0).index].startswith("き") and markers.x[12].startswith("す")
    assert confusion.picked_cell([{"point_index": 12, "curve_number": 1}]) == confusion.Cell(1, 2)
    assert confusion.picked_cell([]) is None and confusion.picked_cell([{"point_index": 100}]) is None
    assert confusion.Cell(1, 2).words == "true き (ki), predicted す (su)"
