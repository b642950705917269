"""Sketch pad: a drawing (canvas, PNG, any size or colour) -> KMNIST-like 28x28 input -> classes."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageFilter

from kmnist.data.classes import CLASSES
from kmnist.data.pixels import IMAGE_SIDE, as_batch, to_float, to_uint8
from kmnist.registry.inference import as_classifier

# How a drawing becomes a 28x28 input. The in-page pad's preprocess.js receives these (pad_facts) and
# computes exactly what to_kmnist computes (tests/browser/test_preprocess_parity.py).
INK_THRESHOLD = 0.2      # ink level that counts as a stroke
STROKE_LEVEL = 0.4       # ink level that counts when stroke_width measures a stroke
ALPHA_SPREAD = 0.1       # alpha varying by more than this: a transparent background, the strokes are opaque
ALL_INK = 0.85           # a canvas with more than this share of stroke pixels is all ink, not a drawing
MIN_EXTENT = 0.04        # a drawing whose ink spans less than this share of the canvas is a dot
TARGET_STROKE = 2.0      # KMNIST's median stroke width as stroke_width() measures it, in 28x28 pixels
THIN_STROKE, THICK_STROKE = 1.1, 3.1  # 2nd-98th percentile of KMNIST: strokes outside are restroked
DOT_RATIO = 2.5          # a drawing less than this many stroke widths across is a dot
WORK_SIZE = 112          # strokes are measured and reshaped on a 4x grid before the final 28x28

# Why a drawing cannot be classified: BlankDrawingError's message, in Python and in the pad.
MESSAGES = {
    "shape": "expected a 2-D image, got an array of shape {shape}",
    "empty": "the canvas is empty: draw a character",
    "blank": "the canvas shows no strokes (it is empty, or filled with one colour): clear it and draw a "
             "character",
    "all_ink": "the drawing is almost all ink: clear it and draw a character",
    "dot": "the drawing is only a dot: draw a whole character",
    "faint": "the strokes are too faint to read: draw with a darker or wider brush",
}
NOTHING_YET = "Nothing to classify yet: {reason}."  # the hint in place of a prediction
# The same reasons for an image file (the command line's predict): there is no canvas to clear.
FILE_MESSAGES = MESSAGES | {
    "empty": "the image is empty: give an image of one drawn character",
    "blank": "the image shows no strokes (it is empty, or one colour): give an image of one drawn character",
    "all_ink": "the image is almost all ink: give an image of one character on a plain background",
    "dot": "the image shows only a dot: give an image of a whole character",
    "faint": "the strokes are too faint to read: give an image with darker or wider strokes",
}

# The pad itself: both the page's server path and the in-page pad offer these.
CANVAS_SIZE = 280        # the square canvas, in pixels
BRUSH_MIN, BRUSH_MAX = 6, 40
BRUSH_DEFAULT = 18       # on the canvas, strokes end up about as wide as KMNIST's (~2-3 of 28 pixels)
CONFIDENT = 0.6          # below this top probability the Sketch pad says the model is unsure
UNSURE = (f"The model is unsure: no class reaches {round(CONFIDENT * 100)} %. Compare your drawing with the "
          "examples; characters drawn large, in one piece and with KMNIST's stroke order look most like the "
          "training data.")
# The hint under the canvas; the examples sit beside the pad on a wide screen and below it on a phone.
FILL_HINT = 'Fill most of the square, like the examples under "What to draw".'


class BlankDrawingError(ValueError):
    """The drawing has no usable ink; the message (MESSAGES[kind]) says what to do."""

    def __init__(self, kind: str, **facts):
        super().__init__(MESSAGES[kind].format(**facts))
        self.kind, self.facts = kind, facts

    def for_a_file(self) -> str:
        """The same reason, worded for an image file rather than the pad."""
        return FILE_MESSAGES[self.kind].format(**self.facts)


def ink_map(image) -> np.ndarray:
    """Any image (PIL, or array H x W, H x W x 1/3/4, uint8 or float) -> float ink in [0, 1].

    Transparent backgrounds (canvas RGBA) take ink from alpha; opaque images take it from
    brightness, with the polarity (dark-on-light or light-on-dark) read off the border.
    """
    array = np.asarray(image.convert("RGBA") if isinstance(image, Image.Image) else image)
    if array.ndim not in (2, 3) or min(array.shape[:2]) < 2:
        raise BlankDrawingError("shape", shape=array.shape)
    array = to_float(array)
    if array.ndim == 2:
        array = array[..., None]
    grey = array[..., :3].mean(axis=2) if array.shape[2] >= 3 else array[..., 0]
    if array.shape[2] in (2, 4):
        alpha = array[..., -1]
        if alpha.max() - alpha.min() > ALPHA_SPREAD:  # transparent background: the strokes are opaque
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
    aspect ratio kept, longest side scaled to 28, centred, strokes brought to KMNIST's weight.

    KMNIST glyphs fill their box and their strokes are about 2 pixels wide (a quarter of the
    pixels are ink). A drawing's stroke width depends on the brush and on how large it was drawn,
    so strokes much thinner or thicker than KMNIST's are thickened or thinned on a 4x grid first.

    Raises BlankDrawingError for a blank canvas, a dot, or a canvas filled with ink.
    """
    ink = ink_map(image)
    strokes = ink > INK_THRESHOLD
    if not strokes.any():
        raise BlankDrawingError("blank")
    if strokes.mean() > ALL_INK:
        raise BlankDrawingError("all_ink")
    crop = _crop_to_ink(ink)
    extent = max(crop.shape)
    if extent < MIN_EXTENT * max(ink.shape) or extent < DOT_RATIO * stroke_width(crop):
        raise BlankDrawingError("dot")
    work = _fit(crop, WORK_SIZE)
    width = stroke_width(work) * IMAGE_SIDE / WORK_SIZE
    if THIN_STROKE <= width <= THICK_STROKE:
        return _fit(crop, IMAGE_SIDE, centred=True)
    restroked = _restroke(work, width)
    if not (restroked > INK_THRESHOLD).any():
        raise BlankDrawingError("faint")
    return _fit(_crop_to_ink(restroked), IMAGE_SIDE, centred=True)


def _crop_to_ink(ink: np.ndarray) -> np.ndarray:
    strokes = ink > INK_THRESHOLD
    rows, cols = np.nonzero(strokes.any(axis=1))[0], np.nonzero(strokes.any(axis=0))[0]
    return ink[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]


def _fit(ink: np.ndarray, side: int, centred: bool = False) -> np.ndarray:
    """Scale `ink` so its longest side is `side`; with `centred`, paste it in a side x side square
    and stretch its brightest pixel to 1, like KMNIST's scans."""
    height, width = ink.shape
    scale = side / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    glyph = Image.fromarray(to_uint8(np.clip(ink, 0, 1))).resize(size, Image.Resampling.LANCZOS)
    if not centred:
        return to_float(np.asarray(glyph))
    canvas = Image.new("L", (side, side))
    canvas.paste(glyph, ((side - size[0]) // 2, (side - size[1]) // 2))
    result = to_float(np.asarray(canvas))
    return result / result.max() if result.max() > 0 else result


def stroke_width(ink: np.ndarray) -> float:
    """The mean stroke width in pixels: twice the ink area over its outline length (2A/P)."""
    strokes = ink > STROKE_LEVEL
    area = int(strokes.sum())
    if area == 0:
        return 0.0
    padded = Image.fromarray(np.pad(strokes, 1).astype("uint8") * 255)
    inner = np.asarray(padded.filter(ImageFilter.MinFilter(3)))[1:-1, 1:-1] > 0
    outline = int((strokes & ~inner).sum())
    return 2.0 * area / max(outline, 1)


def _restroke(work: np.ndarray, width: float) -> np.ndarray:
    """Thicken (max filter) or thin (min filter) strokes of `width` (in 28-pixel units) toward
    KMNIST's typical width, on the WORK_SIZE grid; padded so nothing is cut off."""
    per_pixel = WORK_SIZE / IMAGE_SIDE
    radius = max(1, round(abs(TARGET_STROKE - width) / 2 * per_pixel))
    padded = Image.fromarray(to_uint8(np.pad(work, radius + 1)))
    size = 2 * radius + 1
    changed = padded.filter(ImageFilter.MaxFilter(size) if width < TARGET_STROKE
                            else ImageFilter.MinFilter(size))
    result = to_float(np.asarray(changed))
    return result if (result > INK_THRESHOLD).any() else np.pad(work, radius + 1)


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
        return float(self.probabilities.max()) >= CONFIDENT


def predict_drawing(classifier, image) -> Prediction:
    """Preprocess `image` with to_kmnist and classify it (safe to call from many sessions at once).

    `classifier` is a kmnist.registry.inference classifier (ONNX Runtime or Keras, see load_classifier); a
    Keras model is accepted too and runs as a KerasClassifier.
    """
    glyph = to_kmnist(image)
    probabilities = as_classifier(classifier).probabilities(as_batch(glyph))[0]
    return Prediction(glyph, np.asarray(probabilities))


def predict_image(classifier, image) -> Prediction:
    """Classify a 28x28 image as it is (a test image, which needs no preprocessing)."""
    image = to_float(image)
    return Prediction(image, np.asarray(as_classifier(classifier).probabilities(as_batch(image))[0]))


def pad_facts() -> dict:
    """The facts above as the in-page Sketch pad receives them (a component argument): its preprocess.js
    and its page take every threshold, size, message and the brush from here, and state none of their own."""
    return {
        "INK_THRESHOLD": INK_THRESHOLD, "STROKE_LEVEL": STROKE_LEVEL, "ALPHA_SPREAD": ALPHA_SPREAD,
        "ALL_INK": ALL_INK, "MIN_EXTENT": MIN_EXTENT, "TARGET_STROKE": TARGET_STROKE,
        "THIN_STROKE": THIN_STROKE, "THICK_STROKE": THICK_STROKE, "DOT_RATIO": DOT_RATIO,
        "WORK_SIZE": WORK_SIZE, "IMAGE_SIDE": IMAGE_SIDE, "MESSAGES": dict(MESSAGES),
        "NOTHING_YET": NOTHING_YET, "CANVAS_SIZE": CANVAS_SIZE, "BRUSH_MIN": BRUSH_MIN,
        "BRUSH_MAX": BRUSH_MAX, "BRUSH_DEFAULT": BRUSH_DEFAULT, "CONFIDENT": CONFIDENT, "UNSURE": UNSURE,
        "FILL_HINT": FILL_HINT,
    }
