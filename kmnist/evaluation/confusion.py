"""The confusion matrix: its counts, the test images in each cell, and which cell a chart click picks."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from kmnist.data.classes import CLASSES, NUM_CLASSES


class Cell(NamedTuple):
    """One cell of the matrix: images of class `true` that the model read as `predicted`."""

    true: int
    predicted: int

    @property
    def index(self) -> int:
        """The cell's place in row-major order: the point index of charts.clickable_confusion."""
        return self.true * NUM_CLASSES + self.predicted

    @property
    def words(self) -> str:
        true, predicted = CLASSES[self.true], CLASSES[self.predicted]
        return f"true {true.name}, predicted {predicted.name}"


CELLS = tuple(Cell(true, predicted) for true in range(NUM_CLASSES) for predicted in range(NUM_CLASSES))


def matrix(labels, predicted) -> list[list[int]]:
    """The 10x10 counts: rows are true classes, columns predicted ones."""
    counts = np.zeros((NUM_CLASSES, NUM_CLASSES), dtype=int)
    np.add.at(counts, (np.asarray(labels, int), np.asarray(predicted, int)), 1)
    return counts.tolist()


def members(labels, predicted, cell: Cell) -> np.ndarray:
    """Positions (in the test set) of the images in `cell`, in test-set order."""
    labels, predicted = np.asarray(labels, int), np.asarray(predicted, int)
    if labels.shape != predicted.shape:
        raise ValueError(f"labels {labels.shape} and predictions {predicted.shape} differ in shape")
    return np.flatnonzero((labels == cell.true) & (predicted == cell.predicted))


def picked_cell(points: list[dict]) -> Cell | None:
    """The cell of the last point a Plotly selection holds (its "point_index"), or None for no selection."""
    indices = [p.get("point_index") for p in points if isinstance(p.get("point_index"), int)]
    if not indices or not 0 <= indices[-1] < len(CELLS):
        return None
    return CELLS[indices[-1]]


def kept_pick(points: list[dict], kept: Cell | None) -> Cell | None:
    """The cell a chart selection picks, else the `kept` one (the last cell picked).

    plotly.js (clickmode "event+select") selects the point of its last hover, not of the click: a click
    that follows the mouse onto a cell sooner than its throttled hover (50 ms) takes the point the mouse
    was on before, and when that is the picked cell, plotly toggles it off and sends an empty selection.
    A click on the picked cell itself does the same. An empty selection so never hides a cell's images.
    """
    cell = picked_cell(points)
    return kept if cell is None else cell
