"""What the network sees while it trains, as pictures: the validation strip and the first layer's filters."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from kmnist.data.classes import CLASSES
from kmnist.data.pixels import upscale
from kmnist.pictures.compose import can_draw_hiragana, compose_grid, drawable

# The live view shows these as plain pictures, not Plotly charts: a picture that changed costs the browser
# almost nothing to redraw, while every redrawn chart takes CPU from the training process on the same cores.
RIGHT_INK, WRONG_INK, WAITING_INK = (44, 160, 44), (214, 39, 40), (90, 90, 90)


NEGATIVE, ZERO, POSITIVE = np.array([33, 102, 172]), np.array([247, 247, 247]), np.array([178, 24, 43])


class Glimpse(NamedTuple):
    title: str
    picture: np.ndarray  # RGB uint8


def latest(records) -> tuple:
    """The last run's "begin" record and its latest "glimpse" (kmnist.training.callbacks), each None if
    absent."""
    begin = glimpse = None
    for record in records:
        if record["kind"] == "begin":
            begin, glimpse = record, None
        elif record["kind"] == "glimpse":
            glimpse = record
    return begin, glimpse


def validation_strip(records, scale: int = 3, columns: int = 5) -> Glimpse | None:
    """The run's fixed validation images, one per class, each labelled "true→predicted confidence" after
    the latest epoch (green right, red wrong); None when the records carry no strip."""
    begin, glimpse = latest(records)
    if begin is None or begin.get("strip_images") is None:
        return None
    labels = begin["strip_labels"]
    hiragana = can_draw_hiragana()
    name = [drawable(kana, hiragana, short=True) for kana in CLASSES]  # "お", or "o" without a CJK font
    if glimpse is None:
        texts = [f"{name[label]}→…" for label in labels]
        inks = [WAITING_INK] * len(labels)
        title = "Validation strip: predictions appear after epoch 1"
    else:
        texts = [f"{name[label]}→{name[guess]} {sure:.0%}" for label, guess, sure
                 in zip(labels, glimpse["predicted"], glimpse["confidence"], strict=True)]
        inks = [RIGHT_INK if label == guess else WRONG_INK
                for label, guess in zip(labels, glimpse["predicted"], strict=True)]
        title = f"Validation strip after epoch {glimpse['epoch']}"
    picture = compose_grid(np.asarray(begin["strip_images"]), columns=min(columns, len(labels)), scale=scale,
                           labels=texts, inks=inks, label_height=20)
    return Glimpse(title, picture)


def diverging(values: np.ndarray) -> np.ndarray:
    """Values -> RGB uint8: blue below zero, white at zero, red above, scaled by the largest magnitude;
    values that are not finite (a diverged run) show as zero."""
    values = np.nan_to_num(np.asarray(values, dtype="float32"), nan=0.0, posinf=0.0, neginf=0.0)
    peak = float(np.abs(values).max()) or 1.0
    t = np.clip(values / peak, -1.0, 1.0)[..., None]
    rgb = np.where(t < 0, ZERO + (NEGATIVE - ZERO) * -t, ZERO + (POSITIVE - ZERO) * t)
    return rgb.round().astype(np.uint8)


def first_layer_filters(records, columns: int = 8, scale: int = 14, gap: int = 4) -> Glimpse | None:
    """The first conv layer's filters after the latest epoch (before training until then), red positive
    and blue negative weights, on one scale; None when the records carry no filters."""
    begin, glimpse = latest(records)
    source = glimpse if glimpse is not None and glimpse.get("filters") is not None else begin
    if source is None or source.get("filters") is None:
        return None
    kernels = diverging(source["filters"])  # (filters, k, k, 3)
    count, size = kernels.shape[0], kernels.shape[1] * scale
    rows = -(-count // columns)
    picture = np.full((gap + rows * (size + gap), gap + columns * (size + gap), 3), 255, np.uint8)
    for n, kernel in enumerate(kernels):
        row, column = divmod(n, columns)
        top, left = gap + row * (size + gap), gap + column * (size + gap)
        picture[top:top + size, left:left + size] = upscale(kernel, scale)
    when = f"after epoch {glimpse['epoch']}" if source is glimpse else "before training"
    k = source["filters"].shape[1]
    return Glimpse(f"First conv layer: {count} filters of {k}×{k}, {when}", picture)
