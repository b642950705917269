"""Draw real KMNIST characters on the sketch pad with the mouse, as a user would.

A test image is traced with horizontal scan-line strokes: every run of ink pixels in every second
row of the 28x28 image becomes one stroke, scaled to the 280-pixel canvas. Which images to draw is
decided by the shipped model itself: the same strokes are rendered offline (like the canvas does,
round-capped lines of the default brush, on a transparent background) and only images the model
reads correctly and confidently at several brush widths are used, so a wrong prediction in the
browser points at the app, not at a sloppy drawing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

CANVAS = 280
MARGIN = 28         # canvas pixels left free around the character
ROW_STEP = 2        # trace every second image row; the brush fills the rows between
INK = 80            # an image pixel above this (of 255) is ink
BRUSH = 18          # the sketch page's default brush width
CANVAS_LOCATOR = ".st-key-sketch_canvas canvas.upper-canvas"
DRAWN_CANVAS = ".st-key-sketch_canvas canvas.dc-canvas.lower-canvas"  # the strokes (not the background)
BLANK_HINT = "Nothing to classify yet"

Stroke = list[tuple[float, float]]


@dataclass(frozen=True)
class Example:
    """A test image to draw, its class and what the sketch page should then say."""

    position: int  # in the test split
    label: int
    char: str
    romaji: str
    strokes: tuple[tuple[tuple[float, float], ...], ...]
    probability: float  # the model's offline probability for the class (at the default brush)

    @property
    def expected(self) -> re.Pattern:
        return prediction_pattern(self.char, self.romaji)


def prediction_pattern(char: str = r"\S", romaji: str = r"\w+") -> re.Pattern:
    return re.compile(rf"^Prediction: {char} \({romaji}\) \d+%$")


def scanline_strokes(image: np.ndarray) -> list[Stroke]:
    """One horizontal stroke per run of ink in every ROW_STEP-th row, in canvas coordinates."""
    ink = np.asarray(image) > INK
    scale = (CANVAS - 2 * MARGIN) / ink.shape[1]
    strokes = []
    for row in range(0, ink.shape[0], ROW_STEP):
        line = ink[row:row + ROW_STEP].any(axis=0)
        edges = np.flatnonzero(np.diff(np.concatenate([[0], line.astype(int), [0]])))
        y = MARGIN + (row + ROW_STEP / 2) * scale
        for start, end in zip(edges[::2], edges[1::2], strict=True):
            strokes.append([(MARGIN + (start + 0.5) * scale, y), (MARGIN + (end - 0.5) * scale, y)])
    return strokes


def render(strokes, width: int = BRUSH) -> np.ndarray:
    """The strokes as the canvas draws them: opaque round-capped lines on a transparent background."""
    picture = Image.new("RGBA", (CANVAS, CANVAS), (0, 0, 0, 0))
    pen = ImageDraw.Draw(picture)
    radius = width / 2
    for stroke in strokes:
        pen.line(stroke, fill=(0, 0, 0, 255), width=width)
        for x, y in (stroke[0], stroke[-1]):
            pen.ellipse([x - radius, y - radius, x + radius, y + radius], fill=(0, 0, 0, 255))
    return np.asarray(picture)


def choose_examples(model, data, classes, per_class: int = 1, candidates: int = 30,
                    threshold: float = 0.95) -> dict[int, list[Example]]:
    """For each class, the test images with the fewest strokes that the model reads correctly with at
    least `threshold` probability when drawn with thin, default and thick brushes."""
    from kmnist import drawing as kdrawing
    from kmnist.classes import CLASSES

    widths = (BRUSH - 4, BRUSH, BRUSH + 6)
    plans = [(int(position), scanline_strokes(data.x_test[position]))
             for label in classes for position in np.flatnonzero(data.y_test == label)[:candidates]]
    glyphs = np.stack([kdrawing.to_kmnist(render(strokes, width))
                       for _, strokes in plans for width in widths])
    probabilities = np.asarray(model.predict(glyphs[..., None], batch_size=256, verbose=0))
    probabilities = probabilities.reshape(len(plans), len(widths), -1)
    chosen = {}
    for label in classes:
        found = []
        for (position, strokes), by_width in zip(plans, probabilities, strict=True):
            if data.y_test[position] != label:
                continue
            if all(p.argmax() == label and p[label] >= threshold for p in by_width):
                kana = CLASSES[label]
                found.append(Example(position, int(label), kana.char, kana.romaji,
                                     tuple(tuple(s) for s in strokes), float(by_width[1][label])))
        found.sort(key=lambda e: len(e.strokes))
        assert found, f"no test image of class {label} is read confidently when traced: is the model weak?"
        chosen[label] = found[:per_class]
    return chosen


# -- the browser side -------------------------------------------------------------------------------------
def canvas_origin(page) -> tuple[float, float]:
    canvas = page.locator(CANVAS_LOCATOR)
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    assert box and round(box["width"]) == CANVAS, f"unexpected canvas box {box}"
    return box["x"], box["y"]


def draw(page, strokes) -> float:
    """Draw `strokes` with the mouse; returns the time.monotonic() of the last mouse-up."""
    import time

    x0, y0 = canvas_origin(page)
    released = time.monotonic()
    for stroke in strokes:
        (ax, ay), (bx, by) = stroke[0], stroke[-1]
        page.mouse.move(x0 + ax, y0 + ay)
        page.mouse.down()
        page.mouse.move(x0 + bx, y0 + by, steps=max(2, int(abs(bx - ax) // 20)))
        page.mouse.up()
        released = time.monotonic()
    return released


async def draw_async(page, strokes) -> float:
    """`draw` for Playwright's async API."""
    import time

    canvas = page.locator(CANVAS_LOCATOR)
    await canvas.scroll_into_view_if_needed()
    box = await canvas.bounding_box()
    x0, y0 = box["x"], box["y"]
    released = time.monotonic()
    for stroke in strokes:
        (ax, ay), (bx, by) = stroke[0], stroke[-1]
        await page.mouse.move(x0 + ax, y0 + ay)
        await page.mouse.down()
        await page.mouse.move(x0 + bx, y0 + by, steps=max(2, int(abs(bx - ax) // 20)))
        await page.mouse.up()
        released = time.monotonic()
    return released


INK_PIXELS_JS = """canvas => {
    const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    let ink = 0;
    for (let i = 0; i < data.length; i += 4) {
        if (data[i + 3] > 0 && data[i] < 128 && data[i + 1] < 128 && data[i + 2] < 128) ink++;
    }
    return ink;
}"""


def ink_pixels(page) -> int:
    """Dark pixels the canvas shows (what the user has drawn and not cleared)."""
    return page.locator(DRAWN_CANVAS).evaluate(INK_PIXELS_JS)
