"""Grids of feature maps as pictures: Plotly's Viridis colours, blank gaps, square cells enlarged whole."""

from __future__ import annotations

import numpy as np
from plotly.colors import hex_to_rgb, sequential

# Viridis as Plotly draws it (its ten stops, linearly in between), 256 steps: the maps' colours match the
# Plotly heatmaps of the same page (the overview and the enlarged map above them).
_STOPS = np.array([hex_to_rgb(colour) for colour in sequential.Viridis], dtype="float64")
VIRIDIS = np.stack([np.interp(np.linspace(0, 1, 256), np.linspace(0, 1, len(_STOPS)), _STOPS[:, channel])
                    for channel in range(3)], axis=1).round().astype(np.uint8)
GAP = np.array([255, 255, 255], dtype=np.uint8)  # the blank between maps (NaN in the grid)


def grid_picture(grid: np.ndarray, width: int) -> np.ndarray:
    """A kmnist.inspect.grids.feature_grid (values in [0, 1], NaN between maps) as RGB uint8, each cell a
    square of the largest whole number of pixels that keeps the picture within `width` pixels."""
    grid = np.asarray(grid, dtype="float32")
    scale = max(1, width // max(grid.shape[1], 1))
    blank = ~np.isfinite(grid)
    steps = (np.clip(np.nan_to_num(grid, nan=0.0), 0.0, 1.0) * 255).round().astype(np.intp)
    picture = np.where(blank[..., None], GAP, VIRIDIS[steps])
    return picture.repeat(scale, axis=0).repeat(scale, axis=1)
