"""Figure builders of the Training and Pooling pages, and the misclassified-images helper."""

import numpy as np
import pytest

from kmnist.charts import dataset, layers, training
from kmnist.evaluation import metrics


def records(run=None, epochs=2, steps=3):
    out = [{"kind": "begin", "epochs": epochs, "steps": steps}]
    for epoch in range(1, epochs + 1):
        out += [{"kind": "batch", "epoch": epoch, "batch": b, "batch_loss": 2.0 / (epoch + b), "loss": 1.0,
                 "batch_accuracy": b / (steps + 1)} for b in range(1, steps + 1)]
        out.append({"kind": "epoch", "epoch": epoch, "loss": 1.0 / epoch, "accuracy": 0.5 + 0.1 * epoch,
                    "auc": 0.8, "val_loss": 1.2 / epoch, "val_accuracy": 0.5, "val_auc": 0.85})
    return [r | {"run": run} for r in out] if run else out


def test_training_curves_one_run():
    figure = training.training_curves(records())
    names = [trace.name for trace in figure.data]
    assert "train (per batch)" in names and "validation (per epoch)" in names
    batch = next(t for t in figure.data if t.name == "train (per batch)")
    assert list(batch.x) == pytest.approx([1 / 3, 2 / 3, 1, 4 / 3, 5 / 3, 2])
    assert len(figure.data) == 2 + 6  # batch loss and accuracy + (train, validation) x (loss, AUC, accuracy)
    accuracy = [t for t in figure.data if t.name == "train (per batch)"][1]
    assert accuracy.xaxis == "x3" and list(accuracy.y) == pytest.approx([0.25, 0.5, 0.75] * 2)
    assert not accuracy.showlegend  # one legend entry for both per-batch lines
    older = [{k: v for k, v in r.items() if k != "batch_accuracy"} for r in records()]
    assert len(training.training_curves(older).data) == 1 + 6  # records streamed before batch accuracy


def test_training_curves_overlays_runs_and_skips_interrupted_epochs():
    mixed = records("a-max") + records("a-avg", epochs=1)
    mixed.append({"kind": "epoch", "epoch": 2, "loss": 9.0, "interrupted": True, "run": "a-avg"})
    figure = training.training_curves(mixed)
    names = {trace.name for trace in figure.data}
    assert {"a-max · train (per batch)", "a-avg · validation (per epoch)"} <= names
    avg_loss = [t for t in figure.data if t.name == "a-avg · train (per epoch)"][0]
    assert list(avg_loss.x) == [1]
    assert len({t.line.color for t in figure.data}) == 2


def test_training_curves_from_card_history_without_batches():
    history = [r for r in records() if r["kind"] == "epoch"]
    assert len(training.training_curves(history).data) == 6


def test_confusion_heatmap_and_per_class_bar():
    confusion = np.eye(10, dtype=int) * 5
    confusion[0, 1] = 2
    figure = training.confusion_heatmap(confusion.tolist())
    assert figure.data[0].z[0][1] == 2 and figure.data[0].x[0] == "お o"
    bar = training.per_class_bar([0.5] * 9 + [1.0])
    assert list(bar.data[0].y)[-1] == 1.0 and bar.data[0].text[0] == "50.0%"


def test_labelled_gallery_is_one_image_with_a_caption_per_tile():
    images = np.full((12, 28, 28), 255, dtype="uint8")
    figure = dataset.labelled_gallery(images, [f"c{i}" for i in range(12)], columns=5)
    assert len(figure.data) == 1
    grid = np.asarray(figure.data[0].z, dtype=float)
    assert grid.shape == (3 * (28 + 9 + 2), 5 * (28 + 2))
    assert np.nanmax(grid) == 1.0
    assert [a.text for a in figure.layout.annotations] == [f"c{i}" for i in range(12)]
    assert dataset.labelled_gallery(np.zeros((0, 28, 28)), []).layout.title.text == "Nothing to show"


def test_feature_map_highlights_the_window():
    figure = layers.feature_map(np.arange(16.0).reshape(4, 4), "map", highlight=(2, 0, 2))
    shape = figure.layout.shapes[0]
    assert (shape.x0, shape.x1, shape.y0, shape.y1) == (-0.5, 1.5, 1.5, 3.5)
    assert layers.grid_heatmap(np.zeros((3, 3)), "grid").layout.title.text == "grid"


def test_misclassified_takes_classes_in_turn():
    labels = np.array([0, 0, 0, 1, 1, 2, 2])
    predicted = np.array([1, 1, 0, 0, 1, 0, 0])
    assert metrics.misclassified(labels, predicted).tolist() == [0, 3, 5, 1, 6]
    assert metrics.misclassified(labels, predicted, limit=2).tolist() == [0, 3]
    assert metrics.misclassified(labels, labels).tolist() == []
    with pytest.raises(ValueError, match="differ in shape"):
        metrics.misclassified(labels, predicted[:3])


def test_predict_classes_uses_the_argmax():
    class Fake:
        def predict(self, x, batch_size, verbose):
            assert x.shape == (2, 28, 28, 1) and x.max() <= 1.0
            return np.array([[0.1, 0.9], [0.8, 0.2]])

    assert metrics.predict_classes(Fake(), np.full((2, 28, 28), 255, "uint8")).tolist() == [1, 0]
