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

from kmnist import drawing as kdrawing
from kmnist.data.classes import CLASSES

CANVAS = kdrawing.CANVAS_SIZE  # both pads' canvas
MARGIN = 28         # canvas pixels left free around the character
ROW_STEP = 2        # trace every second image row; the brush fills the rows between
INK = 80            # an image pixel above this (of 255) is ink
BRUSH = kdrawing.BRUSH_DEFAULT  # the sketch page's default brush width
PAD_FRAME = "iframe[title='kmnist.ui.sketch_pad.component.sketch_pad']"  # the in-page Sketch pad
PAD_CANVAS = "#canvas"
SERVER_CANVAS = ".st-key-sketch_canvas canvas.upper-canvas"  # the server path's streamlit-drawable-canvas
DRAWN_CANVAS = ".st-key-sketch_canvas canvas.dc-canvas.lower-canvas"  # its strokes (not the background)
BLANK_HINT = kdrawing.NOTHING_YET.split(":")[0]  # "Nothing to classify yet"
PREDICTION = "[data-testid='kmnist-prediction']"

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
def pad(page):
    """The in-page Sketch pad (a component's iframe) of `page`."""
    return page.frame_locator(PAD_FRAME)


def pad_canvas(page):
    return pad(page).locator(PAD_CANVAS)


def server_canvas(page):
    return page.locator(SERVER_CANVAS)


def pad_stats(page, expression: str = "s"):
    """`expression` over the pad's own measurements (window.kmnistSketch as `s`), evaluated in its frame."""
    script = f"() => {{ const s = window.kmnistSketch; return {expression}; }}"
    return pad(page).locator("body").evaluate(script)


def wait_until_pad_ready(page, timeout_s: float = 90) -> float:
    """Wait until the pad has loaded its model; returns the seconds waited."""
    import time

    started = time.monotonic()
    pad(page).locator("body").wait_for()
    while not pad_stats(page, "Boolean(s && (s.ready || s.error))"):
        assert time.monotonic() - started < timeout_s, "the sketch pad did not load its model"
        time.sleep(0.02)
    assert pad_stats(page, "s.error") is None, pad_stats(page, "s.error")
    return time.monotonic() - started


PAD_IDLE_JS = ("() => new Promise(done => { const check = () => window.kmnistSketch.idle() ? done() "
               ": setTimeout(check, 2); check(); })")


def wait_until_pad_idle(page) -> None:
    """Wait until the pad shows its answer to the drawing as it is now (no update queued or running)."""
    pad(page).locator("body").evaluate(PAD_IDLE_JS)


def canvas_origin(canvas) -> tuple[float, float]:
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    assert box and round(box["width"]) == CANVAS, f"unexpected canvas box {box}"
    return box["x"], box["y"]


def draw(page, strokes, canvas=None) -> float:
    """Draw `strokes` with the mouse on `canvas` (default: the in-page pad); returns the time.monotonic()
    of the last mouse-up."""
    import time

    x0, y0 = canvas_origin(pad_canvas(page) if canvas is None else canvas)
    released = time.monotonic()
    for stroke in strokes:
        (ax, ay), (bx, by) = stroke[0], stroke[-1]
        page.mouse.move(x0 + ax, y0 + ay)
        page.mouse.down()
        page.mouse.move(x0 + bx, y0 + by, steps=max(2, int(abs(bx - ax) // 20)))
        page.mouse.up()
        released = time.monotonic()
    return released


async def draw_async(page, strokes, canvas) -> float:
    """`draw` for Playwright's async API."""
    import time

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
ALPHA_JS = """canvas => {
    const rgba = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    return Array.from(rgba.filter((_, i) => i % 4 === 3));
}"""


def ink_pixels(page, canvas=None) -> int:
    """Dark pixels the canvas shows (what the user has drawn and not cleared); default: the in-page pad."""
    return (pad_canvas(page) if canvas is None else page.locator(DRAWN_CANVAS)).evaluate(INK_PIXELS_JS)


def pad_alpha(page) -> np.ndarray:
    """The pad's drawing as the canvas holds it: (280, 280) uint8 alpha, what preprocessing starts from."""
    return np.asarray(pad_canvas(page).evaluate(ALPHA_JS), "uint8").reshape(CANVAS, CANVAS)
