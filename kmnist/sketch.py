"""Turn a drawing (canvas, PNG, any size or colours) into a KMNIST-like 28x28 input and classify it."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageFilter

from kmnist.classes import CLASSES

INK_THRESHOLD = 0.2      # ink level that counts as a stroke
MIN_EXTENT = 0.04        # a drawing whose ink spans less than this share of the canvas is a dot
TARGET_INK_SHARE = 0.15  # KMNIST glyphs cover about a quarter of their 28x28 pixels


class BlankDrawingError(ValueError):
    """The drawing has no usable ink; the message says what to do."""


def ink_map(image) -> np.ndarray:
    """Any image (PIL, or array H x W, H x W x 1/3/4, uint8 or float) -> float ink in [0, 1].

    Transparent backgrounds (canvas RGBA) take ink from alpha; opaque images take it from
    brightness, with the polarity (dark-on-light or light-on-dark) read off the border.
    """
    array = np.asarray(image.convert("RGBA") if isinstance(image, Image.Image) else image)
    if array.ndim not in (2, 3) or min(array.shape[:2]) < 2:
        raise BlankDrawingError(f"expected a 2-D image, got an array of shape {array.shape}")
    array = array.astype("float32") / (255.0 if np.issubdtype(array.dtype, np.integer) else 1.0)
    if array.ndim == 2:
        array = array[..., None]
    grey = array[..., :3].mean(axis=2) if array.shape[2] >= 3 else array[..., 0]
    if array.shape[2] in (2, 4):
        alpha = array[..., -1]
        if alpha.max() - alpha.min() > 0.1:  # transparent background: the strokes are the opaque part
            return np.clip(alpha, 0, 1)
        grey = grey * alpha  # fully opaque or fully transparent image: use what is visible
    background = _border_median(np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]]))
    ink = background - grey if background > 0.5 else grey - background
    scale = ink.max()
    return np.clip(ink / scale, 0, 1) if scale > 0 else np.zeros_like(ink)


def _border_median(values: np.ndarray) -> float:
    return float(np.median(values)) if values.size else 0.0


def to_kmnist(image) -> np.ndarray:
    """A drawing -> float32 (28, 28) like a KMNIST image: white ink on black, cropped to the ink,
    aspect ratio kept, longest side scaled to 28, centred, strokes thickened to KMNIST's weight.

    Raises BlankDrawingError for a blank canvas, a dot, or a canvas filled with ink.
    """
    ink = ink_map(image)
    strokes = ink > INK_THRESHOLD
    if not strokes.any():
        raise BlankDrawingError("the canvas shows no strokes (it is empty, or filled with one "
                                "colour): clear it and draw a character")
    if strokes.mean() > 0.85:
        raise BlankDrawingError("the drawing is almost all ink: clear it and draw a character")
    rows, cols = np.nonzero(strokes.any(axis=1))[0], np.nonzero(strokes.any(axis=0))[0]
    top, bottom, left, right = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
    if max(bottom - top, right - left) < MIN_EXTENT * max(ink.shape):
        raise BlankDrawingError("the drawing is only a dot: draw a whole character")
    crop = ink[top:bottom, left:right]
    height, width = crop.shape
    scale = 28 / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    glyph = Image.fromarray((crop * 255).astype("uint8")).resize(size, Image.Resampling.LANCZOS)
    canvas = Image.new("L", (28, 28))
    canvas.paste(glyph, ((28 - size[0]) // 2, (28 - size[1]) // 2))
    for _ in range(2):  # thin pen strokes get KMNIST's brush weight
        if (np.asarray(canvas) > 50).mean() >= TARGET_INK_SHARE:
            break
        canvas = canvas.filter(ImageFilter.MaxFilter(3))
    result = np.asarray(canvas, dtype="float32") / 255.0
    return result / result.max()


@dataclass
class Prediction:
    image: np.ndarray          # the (28, 28) input the model saw
    probabilities: np.ndarray  # (10,)

    def top(self, k: int = 3) -> list[dict]:
        order = np.argsort(self.probabilities)[::-1][:k]
        return [{"class": int(i), "char": CLASSES[i].char, "romaji": CLASSES[i].romaji,
                 "prob": float(self.probabilities[i])} for i in order]

    @property
    def confident(self) -> bool:
        return float(self.probabilities.max()) >= 0.6


_predict_lock = threading.Lock()


def predict_drawing(model, image) -> Prediction:
    """Preprocess `image` with to_kmnist and classify it (safe to call from many sessions at once)."""
    glyph = to_kmnist(image)
    with _predict_lock:  # one shared model serves every session
        probabilities = np.asarray(model(glyph[None, ..., None], training=False))[0]
    return Prediction(glyph, probabilities)
