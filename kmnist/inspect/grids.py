"""Feature maps arranged for display: tiled grids, the strongest maps, their peaks, map columns."""

from __future__ import annotations

import numpy as np


def feature_grid(maps: np.ndarray, columns: int = 8, pad: int = 1, normalize: str = "each",
                 pad_value: float = np.nan) -> np.ndarray:
    """Tile (H, W, C) maps into one (rows*(H+pad)-pad, columns*(W+pad)-pad) image, row by row.

    For conv_filters' (n, k, k) pass `filters.transpose(1, 2, 0)`.

    `normalize="each"` stretches every map to [0, 1] on its own (shows each map's pattern);
    `"all"` uses one scale for all (shows which maps respond most); `"none"` keeps the values.
    Gaps are `pad_value` (NaN: a Plotly heatmap leaves them blank).
    """
    maps = np.asarray(maps, dtype="float32")
    if maps.ndim != 3:
        raise ValueError(f"expected maps of shape (H, W, C), got {maps.shape}")
    height, width, count = maps.shape
    columns = max(1, min(columns, count))
    rows = -(-count // columns)
    if normalize == "each":
        low, high = maps.min(axis=(0, 1)), maps.max(axis=(0, 1))
    elif normalize == "all":
        low, high = np.full(count, maps.min()), np.full(count, maps.max())
    elif normalize == "none":
        low, high = np.zeros(count), np.ones(count)
    else:
        raise ValueError(f"normalize must be 'each', 'all' or 'none', not {normalize!r}")
    span = np.where(high - low > 1e-12, high - low, 1.0)
    scaled = (maps - low) / span
    grid = np.full((rows * (height + pad) - pad, columns * (width + pad) - pad), pad_value, "float32")
    for index in range(count):
        row, column = divmod(index, columns)
        top, left = row * (height + pad), column * (width + pad)
        grid[top:top + height, left:left + width] = scaled[..., index]
    return grid


def grid_channels(shape: tuple[int, int, int], columns: int = 8, pad: int = 1) -> np.ndarray:
    """For a feature_grid of maps of `shape` (H, W, C): each grid pixel's channel, -1 in the gaps."""
    height, width, count = shape
    index = np.arange(count, dtype="float32").reshape(1, 1, count) * np.ones((height, width, 1))
    grid = feature_grid(index, columns, pad, normalize="none", pad_value=-1)
    return grid.astype("int64")


def strongest_maps(maps: np.ndarray, count: int | None = None) -> np.ndarray:
    """The channels of (H, W, C) maps ordered by mean activation, strongest first (the first `count`)."""
    mean = np.asarray(maps, dtype="float64").reshape(-1, np.shape(maps)[-1]).mean(axis=0)
    return np.argsort(-mean, kind="stable")[:count]


def strongest_map(maps: np.ndarray) -> int:
    """The channel of (H, W, C) maps with the highest mean activation (ties: the first)."""
    return int(strongest_maps(maps, 1)[0])


def peak_position(feature: np.ndarray) -> tuple[int, int]:
    """(row, col) of the strongest value of one (H, W) map (ties: the first)."""
    row, col = np.unravel_index(int(np.argmax(feature)), np.shape(feature))
    return int(row), int(col)


def map_column(maps: np.ndarray, channels, slots: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The `channels` of (H, W, C) maps stacked top to bottom as one feature_grid (each map stretched to
    its own range), blank tiles below up to `slots`; and the channel under each grid pixel (-1: none)."""
    channels = np.asarray(channels, dtype="int64")
    slots = max(slots or len(channels), len(channels))
    chosen = np.asarray(maps, dtype="float32")[..., channels]
    blank = np.full((*chosen.shape[:2], slots - len(channels)), np.nan, "float32")
    positions = grid_channels((*chosen.shape[:2], slots), columns=1)
    named = np.where((positions >= 0) & (positions < len(channels)),
                     channels[np.clip(positions, 0, max(len(channels) - 1, 0))], -1)
    return feature_grid(np.concatenate([chosen, blank], axis=-1), columns=1), named
