"""The Pooling page's choices kept across reruns: the model, channel and window shown, and when jobs show."""

from __future__ import annotations

from collections.abc import MutableMapping, Sequence

import numpy as np

from kmnist.inspect import pooling
from kmnist.jobs import snapshots
from kmnist.registry.store import ModelEntry

# Session-state keys of the page's widgets (Streamlit keeps a widget's value under its key).
CHANNEL, ROW, COL = "channel", "window_row", "window_col"
FOLLOWS = "window_follows"  # set when the channel changes: the window then jumps to its telling one
# The page's two parts, one open at a time (kmnist.ui.sections), and the widgets in them.
ARITHMETIC, PAIR = "1 · One feature map, pooled two ways", "2 · Two models that differ only in pooling"
VIEW_KEY = "pooling_view"
VIEW_WIDGETS = (CHANNEL, ROW, COL, "pair")


def first_model(usable: Sequence[ModelEntry], pairs: Sequence[tuple]) -> ModelEntry:
    """The model Part 1 opens on: the max model of the first pair (the shipped one), else the first model."""
    return pairs[0][0] if pairs else usable[0]


def settle_channel(state: MutableMapping, maps: np.ndarray) -> None:
    """Before the channel slider is drawn: the liveliest channel of `maps` (H, W, C) on a first visit,
    later the user's choice, clamped (another model may have fewer channels)."""
    state[CHANNEL] = pooling.clamp(state.get(CHANNEL), maps.shape[-1], pooling.liveliest_channel(maps))


def channel_changed(state: MutableMapping) -> None:
    """The channel slider's on_change: the next run shows the new channel's own telling window."""
    state[FOLLOWS] = True


def jump_to(state: MutableMapping, window: tuple[int, int]) -> None:
    """Move the window sliders to `window` (row, col of the pooled map)."""
    state[ROW], state[COL] = window


def settle_window(state: MutableMapping, feature: np.ndarray) -> tuple[int, int]:
    """Before the window sliders are drawn: the window of `feature` (H, W) to show, kept in `state`.

    A new channel (or a first visit) brings the window where max and average differ most; otherwise the
    user's window stays, clamped to the pooled map. Returns that telling window (for the jump button).
    """
    telling = pooling.telling_window(feature)
    if state.pop(FOLLOWS, False):  # a new channel: its own most telling window, not a blank one
        jump_to(state, telling)
    rows, cols = pooling.pooled_shape(feature.shape)
    state[ROW] = pooling.clamp(state.get(ROW), rows, telling[0])
    state[COL] = pooling.clamp(state.get(COL), cols, telling[1])
    return telling


def shows_monitor(job, waiting: Sequence) -> bool:
    """Whether the Pooling page shows the job monitor: while jobs wait or one is active, and after a pair
    job ended; a single job's results belong to the Training page."""
    return bool(waiting) or (job is not None and (job.state in snapshots.ACTIVE or job.pair))
