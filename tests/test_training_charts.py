"""kmnist.charts.training: the curves hold the records they are given; confusion and per-class charts."""

import numpy as np
import pytest

from kmnist.charts import training
from kmnist.charts.style import RUN_COLORS
from kmnist.data.classes import CLASSES

CHARS = [kana.name for kana in CLASSES]
PANELS = {"x": "loss", "x2": "AUC", "x3": "accuracy"}  # the three subplots, left to right


def records(run=None, epochs=2, steps=3):
    """StreamingCallback records: batch b of epoch e has loss 2 / (e + b) and accuracy b / (steps + 1)."""
    out = [{"kind": "begin", "epochs": epochs, "steps": steps}]
    for epoch in range(1, epochs + 1):
        out += [{"kind": "batch", "epoch": epoch, "batch": b, "batch_loss": 2.0 / (epoch + b), "loss": 1.0,
                 "batch_accuracy": b / (steps + 1)} for b in range(1, steps + 1)]
        out.append({"kind": "epoch", "epoch": epoch, "loss": 1.0 / epoch, "accuracy": 0.5 + 0.1 * epoch,
                    "auc": 0.8, "val_loss": 1.2 / epoch, "val_accuracy": 0.5, "val_auc": 0.85})
    return [r | {"run": run} for r in out] if run else out


def curve(figure, name: str, panel: str):
    """The one trace called `name` on the subplot showing `panel` ("loss", "AUC" or "accuracy")."""
    found = [t for t in figure.data if t.name == name and PANELS[t.xaxis] == panel]
    assert len(found) == 1, f"{len(found)} traces {name!r} on the {panel} panel"
    return found[0]


def test_training_curves_draw_every_batch_and_epoch_of_one_run():
    figure = training.training_curves(records())
    assert [a.text for a in figure.layout.annotations] == ["Loss (lower is better)", "AUC, macro one-vs-rest",
                                                           "Accuracy"]
    assert all(figure.layout[axis].title.text == "epoch" for axis in ("xaxis", "xaxis2", "xaxis3"))
    assert figure.layout.yaxis3.tickformat == ".0%"

    loss = curve(figure, "train (per batch)", "loss")
    assert list(loss.x) == pytest.approx([1 / 3, 2 / 3, 1, 4 / 3, 5 / 3, 2])  # batch b of e at e - 1 + b/3
    assert list(loss.y) == pytest.approx([2 / 2, 2 / 3, 2 / 4, 2 / 3, 2 / 4, 2 / 5])
    accuracy = curve(figure, "train (per batch)", "accuracy")
    assert list(accuracy.y) == pytest.approx([0.25, 0.5, 0.75] * 2)
    assert loss.showlegend and not accuracy.showlegend  # one legend entry for both per-batch lines

    expected = {("train (per epoch)", "loss"): [1.0, 0.5], ("validation (per epoch)", "loss"): [1.2, 0.6],
                ("train (per epoch)", "AUC"): [0.8, 0.8], ("validation (per epoch)", "AUC"): [0.85, 0.85],
                ("train (per epoch)", "accuracy"): [0.6, 0.7],
                ("validation (per epoch)", "accuracy"): [0.5, 0.5]}
    for (name, panel), values in expected.items():
        trace = curve(figure, name, panel)
        assert list(trace.x) == [1, 2] and list(trace.y) == pytest.approx(values), (name, panel)
        assert trace.line.dash == ("solid" if name.startswith("train") else "dash")
    assert len(figure.data) == 2 + len(expected)  # nothing else is drawn
    assert {t.line.color for t in figure.data} == {RUN_COLORS[0]}


def test_records_streamed_before_batch_accuracy_draw_no_accuracy_per_batch():
    older = [{k: v for k, v in r.items() if k != "batch_accuracy"} for r in records()]
    figure = training.training_curves(older)
    assert [PANELS[t.xaxis] for t in figure.data if t.name == "train (per batch)"] == ["loss"]


def test_training_curves_overlay_runs_in_their_own_colours_and_skip_interrupted_epochs():
    mixed = records("a-max") + records("a-avg", epochs=1)
    mixed.append({"kind": "epoch", "epoch": 2, "loss": 9.0, "interrupted": True, "run": "a-avg"})
    figure = training.training_curves(mixed)
    avg_loss = curve(figure, "a-avg · train (per epoch)", "loss")
    assert list(avg_loss.x) == [1] and list(avg_loss.y) == [1.0]  # the interrupted half epoch is left out
    max_loss = curve(figure, "a-max · train (per epoch)", "loss")
    assert list(max_loss.y) == [1.0, 0.5]
    avg_batches = curve(figure, "a-avg · train (per batch)", "loss")
    assert list(avg_batches.x) == pytest.approx([1 / 3, 2 / 3, 1])  # its own batches only
    assert max_loss.line.color == RUN_COLORS[0] and avg_loss.line.color == RUN_COLORS[1]
    assert {t.line.color for t in figure.data if t.name.startswith("a-avg")} == {RUN_COLORS[1]}


def test_training_curves_from_card_history_without_batches():
    history = [r for r in records() if r["kind"] == "epoch"]
    figure = training.training_curves(history)
    assert sorted((t.name, PANELS[t.xaxis]) for t in figure.data) == sorted(
        (f"{label} (per epoch)", panel) for label in ("train", "validation") for panel in PANELS.values())
    assert list(curve(figure, "validation (per epoch)", "loss").y) == pytest.approx([1.2, 0.6])


def test_confusion_heatmap_writes_each_count_in_its_cell():
    confusion = np.eye(10, dtype=int) * 5
    confusion[0, 1] = 2
    figure = training.confusion_heatmap(confusion.tolist())
    heat = figure.data[0]
    assert heat.z[0][1] == 2 and heat.z[3][3] == 5 and heat.text == heat.z
    assert list(heat.x) == CHARS and list(heat.y) == CHARS and heat.x[0] == "お (o)"
    assert figure.layout.xaxis.title.text == "predicted class"
    assert figure.layout.yaxis.title.text == "true class"
    assert figure.layout.yaxis.autorange == "reversed"  # the first class on top, as in a table
    assert figure.layout.title.text == "Confusion matrix (test set)"


def test_per_class_bar_shows_each_accuracy_and_their_mean():
    figure = training.per_class_bar([0.5] * 9 + [1.0])
    bars = figure.data[0]
    assert list(bars.x) == CHARS and list(bars.y) == [0.5] * 9 + [1.0]
    assert bars.text[0] == "50.0%" and bars.text[-1] == "100.0%"
    mean = figure.layout.shapes[0]
    assert mean.y0 == mean.y1 == pytest.approx(0.55)
    assert figure.layout.annotations[0].text == "mean 55.0%"


def test_per_class_comparison_groups_each_models_bars_and_zooms_to_the_lowest():
    figure = training.per_class_comparison({"m": [0.9] * 10, "v": [0.8] + [float("nan")] + [0.95] * 8})
    assert [t.name for t in figure.data] == ["m", "v"]
    assert list(figure.data[1].y)[0] == 0.8 and [t.marker.color for t in figure.data] == list(RUN_COLORS[:2])
    assert figure.layout.barmode == "group"
    assert figure.layout.yaxis.range == pytest.approx((0.75, 1.0))  # NaN (no test image) ignored


def test_clickable_confusion_takes_clicks_on_its_markers_not_the_heatmap():
    counts = (np.arange(100).reshape(10, 10)).tolist()
    figure = training.clickable_confusion(counts, title="m")
    heat, markers = figure.data
    assert heat.hoverinfo == "skip" and figure.layout.clickmode == "event+select"
    assert list(markers.customdata[:3]) == [0, 1, 2] and markers.customdata[99] == 99
    assert (markers.y[23], markers.x[23]) == (CHARS[2], CHARS[3])
    assert figure.layout.title.text == "m"
