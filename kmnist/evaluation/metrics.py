"""Classification metrics from predicted probabilities: loss, accuracy, macro AUC, confusion matrix."""

from __future__ import annotations

import numpy as np

from kmnist.data.classes import NUM_CLASSES
from kmnist.data.pixels import to_model_input
from kmnist.evaluation.confusion import matrix


def classification_metrics(labels: np.ndarray, probabilities: np.ndarray) -> dict:
    """Metrics of `probabilities` (N, 10) against integer `labels` (N,), as plain Python numbers."""
    labels = np.asarray(labels).astype(int)
    probabilities = np.asarray(probabilities, dtype="float64")
    predicted = probabilities.argmax(axis=1)
    from sklearn.metrics import roc_auc_score  # here: importing scikit-learn costs a page's first visit 1-2 s

    eps = 1e-7
    loss = -np.mean(np.log(np.clip(probabilities[np.arange(len(labels)), labels], eps, 1.0)))
    classes = np.arange(NUM_CLASSES)
    confusion = np.asarray(matrix(labels, predicted))
    support = confusion.sum(axis=1)
    per_class_accuracy = np.divide(np.diag(confusion), support, out=np.full(NUM_CLASSES, np.nan),
                                   where=support > 0)
    one_hot = labels[:, None] == classes[None, :]
    per_class_auc = [
        float(roc_auc_score(one_hot[:, k], probabilities[:, k]))
        if 0 < one_hot[:, k].sum() < len(labels) else float("nan")
        for k in classes
    ]
    return {
        "loss": float(loss),
        "accuracy": float(np.mean(predicted == labels)),
        "macro_auc": float(np.nanmean(per_class_auc)),
        "per_class_accuracy": [float(a) for a in per_class_accuracy],
        "per_class_auc": per_class_auc,
        "confusion": confusion.tolist(),
        "count": int(len(labels)),
    }


def evaluate(model, images: np.ndarray, labels: np.ndarray, batch_size: int = 512) -> dict:
    """Predict uint8 `images` (N, 28, 28) with `model` and return classification_metrics."""
    probabilities = model.predict(to_model_input(images), batch_size=batch_size, verbose=0)
    return classification_metrics(labels, probabilities)


def predict_classes(model, images: np.ndarray, batch_size: int = 512) -> np.ndarray:
    """The class `model` predicts for each uint8 image (N, 28, 28), as an int array (N,)."""
    return model.predict(to_model_input(images), batch_size=batch_size, verbose=0).argmax(axis=1)


def misclassified(labels: np.ndarray, predicted: np.ndarray, limit: int | None = None) -> np.ndarray:
    """Indices of the wrongly predicted examples (at most `limit`), taking the classes in turn.

    The order is round-robin over true classes (the first mistake of each class, then the second...),
    so a short gallery shows the mistakes of every class rather than those of the first class only.
    """
    labels, predicted = np.asarray(labels).astype(int), np.asarray(predicted).astype(int)
    if labels.shape != predicted.shape:
        raise ValueError(f"labels {labels.shape} and predictions {predicted.shape} differ in shape")
    wrong = np.flatnonzero(labels != predicted)
    rank = np.zeros(len(wrong), dtype=int)  # how many earlier mistakes share the same true class
    for k in np.unique(labels[wrong]):
        mine = labels[wrong] == k
        rank[mine] = np.arange(mine.sum())
    wrong = wrong[np.lexsort((labels[wrong], rank))]
    return wrong if limit is None else wrong[:limit]
