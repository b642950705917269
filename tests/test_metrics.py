"""kmnist.evaluation.metrics: loss, accuracy, AUC and confusion from probabilities; predictions; mistakes."""

import math

import numpy as np
import pytest

from kmnist.evaluation import metrics


def probabilities(rows: list[dict[int, float]]) -> np.ndarray:
    """(N, 10) probabilities from {class: probability} per row; classes not named get 0."""
    out = np.zeros((len(rows), 10))
    for n, row in enumerate(rows):
        for k, p in row.items():
            out[n, k] = p
    return out


# Two images of class 0 and two of class 1; the second is read as class 1.
LABELS = np.array([0, 0, 1, 1])
PROBABILITIES = probabilities([{0: 0.7, 1: 0.3}, {0: 0.15, 1: 0.85}, {0: 0.2, 1: 0.8}, {0: 0.1, 1: 0.9}])


def test_loss_is_the_mean_negative_log_probability_of_the_true_class():
    scores = metrics.classification_metrics(LABELS, PROBABILITIES)
    expected = -(math.log(0.7) + math.log(0.15) + math.log(0.8) + math.log(0.9)) / 4
    assert scores["loss"] == pytest.approx(expected)
    assert scores["accuracy"] == 0.75 and scores["count"] == 4
    certain = metrics.classification_metrics([0, 1], probabilities([{1: 1.0}, {1: 1.0}]))  # 0 for a truth
    assert certain["loss"] == pytest.approx(-math.log(1e-7) / 2)  # clipped: finite, not infinite


def test_confusion_and_per_class_accuracy_count_rows_as_true_classes():
    scores = metrics.classification_metrics(LABELS, PROBABILITIES)
    assert scores["confusion"][0][:2] == [1, 1] and scores["confusion"][1][:2] == [0, 2]
    assert sum(map(sum, scores["confusion"])) == 4
    assert scores["per_class_accuracy"][:2] == [0.5, 1.0]
    assert all(math.isnan(a) for a in scores["per_class_accuracy"][2:])  # no test image of those classes


def test_macro_auc_averages_the_classes_that_have_both_positives_and_negatives():
    scores = metrics.classification_metrics(LABELS, PROBABILITIES)
    # class 0: scores 0.7, 0.15 (its images) against 0.2, 0.1: 3 of the 4 pairs ranked right; class 1 alike
    assert scores["per_class_auc"][:2] == [0.75, 0.75]
    assert all(math.isnan(a) for a in scores["per_class_auc"][2:])
    assert scores["macro_auc"] == 0.75
    perfect = metrics.classification_metrics(np.arange(10), np.eye(10))
    assert perfect["macro_auc"] == 1.0 and perfect["accuracy"] == 1.0 and perfect["loss"] < 1e-6


def test_the_metrics_are_plain_python_numbers_for_a_json_card():
    scores = metrics.classification_metrics(LABELS, PROBABILITIES)
    assert type(scores["loss"]) is float and type(scores["confusion"][0][0]) is int
    assert type(scores["count"]) is int and type(scores["per_class_accuracy"][0]) is float


class Fixed:
    """A stand-in model that answers fixed probabilities and keeps what it was given."""

    def __init__(self, answer):
        self.answer, self.seen = np.asarray(answer), []

    def predict(self, x, batch_size, verbose):
        self.seen.append((x, batch_size))
        return self.answer


def test_evaluate_gives_the_model_scaled_batches_and_scores_its_answer():
    model = Fixed(PROBABILITIES)
    images = np.full((4, 28, 28), 255, "uint8")
    scores = metrics.evaluate(model, images, LABELS, batch_size=2)
    x, batch_size = model.seen[0]
    assert x.shape == (4, 28, 28, 1) and x.dtype == np.float32 and x.max() == 1.0 and batch_size == 2
    np.testing.assert_equal(scores, metrics.classification_metrics(LABELS, PROBABILITIES))  # NaN == NaN


def test_predict_classes_uses_the_argmax():
    model = Fixed([[0.1, 0.9], [0.8, 0.2]])
    assert metrics.predict_classes(model, np.full((2, 28, 28), 255, "uint8")).tolist() == [1, 0]
    assert model.seen[0][0].shape == (2, 28, 28, 1) and model.seen[0][0].max() <= 1.0


def test_misclassified_takes_classes_in_turn():
    labels = np.array([0, 0, 0, 1, 1, 2, 2])
    predicted = np.array([1, 1, 0, 0, 1, 0, 0])
    # mistakes: class 0 at 0, 1; class 1 at 3; class 2 at 5, 6 -> first of each class, then the seconds
    assert metrics.misclassified(labels, predicted).tolist() == [0, 3, 5, 1, 6]
    assert metrics.misclassified(labels, predicted, limit=2).tolist() == [0, 3]
    assert metrics.misclassified(labels, labels).tolist() == []
    with pytest.raises(ValueError, match="differ in shape"):
        metrics.misclassified(labels, predicted[:3])
