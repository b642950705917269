"""The arithmetic of 2x2 pooling, worked out in NumPy so the pooling page can show every number."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kmnist.network.architectures import pooling_problem


def pool2x2(array: np.ndarray, mode: str = "max") -> np.ndarray:
    """2x2 pooling with stride 2 of a (H, W) or (H, W, C) array, like Keras' MaxPooling2D(2) /
    AveragePooling2D(2) with padding "valid": an odd last row or column is dropped."""
    if problem := pooling_problem(mode):
        raise ValueError(problem)
    array = np.asarray(array, dtype="float64")
    if array.ndim not in (2, 3) or array.shape[0] < 2 or array.shape[1] < 2:
        raise ValueError(f"need a (H, W) or (H, W, C) array with H, W >= 2, not shape {array.shape}")
    height, width = array.shape[0] // 2, array.shape[1] // 2
    blocks = array[:2 * height, :2 * width].reshape(height, 2, width, 2, *array.shape[2:])
    return blocks.max(axis=(1, 3)) if mode == "max" else blocks.mean(axis=(1, 3))


@dataclass(frozen=True)
class Window:
    """One 2x2 pooling window: where it sits and what max and average pooling make of it."""

    row: int  # position in the pooled map
    col: int
    values: np.ndarray  # (2, 2) from the input map

    @property
    def max(self) -> float:
        return float(self.values.max())

    @property
    def mean(self) -> float:
        return float(self.values.mean())

    @property
    def input_rows(self) -> tuple[int, int]:
        return 2 * self.row, 2 * self.row + 1

    @property
    def input_cols(self) -> tuple[int, int]:
        return 2 * self.col, 2 * self.col + 1


def window(array: np.ndarray, row: int, col: int) -> Window:
    """The 2x2 window of a (H, W) map that becomes pixel (row, col) of the pooled map."""
    array = np.asarray(array, dtype="float64")
    rows, cols = array.shape[0] // 2, array.shape[1] // 2
    if array.ndim != 2 or not (0 <= row < rows and 0 <= col < cols):
        raise ValueError(f"window ({row}, {col}) is outside the {rows}x{cols} pooled map of a "
                         f"{array.shape} array")
    return Window(row, col, array[2 * row:2 * row + 2, 2 * col:2 * col + 2].copy())


def telling_window(array: np.ndarray) -> tuple[int, int]:
    """(row, col) of the window where max and average pooling disagree most (ties: the first)."""
    gap = pool2x2(array, "max") - pool2x2(array, "avg")
    row, col = np.unravel_index(int(np.argmax(gap)), gap.shape)
    return int(row), int(col)


def liveliest_channel(maps: np.ndarray) -> int:
    """The channel of (H, W, C) maps with the most varied values (a dead, all-zero map is the least)."""
    maps = np.asarray(maps, dtype="float64")
    return int(np.argmax(maps.reshape(-1, maps.shape[-1]).std(axis=0)))


def largest_gap(a: np.ndarray, b: np.ndarray) -> float:
    """The largest absolute difference between two maps: how closely a model's own layer matches ours."""
    return float(np.abs(np.asarray(a, "float64") - np.asarray(b, "float64")).max())


def pooled_shape(shape: tuple) -> tuple[int, int]:
    """(rows, cols) of the 2x2-pooled map of an (H, W, ...) map: odd last rows/columns are dropped."""
    return shape[0] // 2, shape[1] // 2


def clamp(value: int | None, count: int, default: int) -> int:
    """`value` (or `default` when None) brought into 0..count-1: a choice made for one model or map
    stays valid when another has fewer channels or smaller maps."""
    return min(max(default if value is None else int(value), 0), max(count - 1, 0))
