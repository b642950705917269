"""The sketch pad's JavaScript preprocessing (assets/preprocess.js) gives exactly what Python's
kmnist.drawing.to_kmnist gives, in Chromium, on a few hundred synthetic drawings.

No Streamlit server: page.route answers http://parity.test/ with a tiny page, the module and the
drawings' alpha channels; the page imports the module and runs toKmnist, built on kmnist.drawing's facts as
the component receives them (pad_facts), on each drawing. A second run on other facts (every threshold
moved) shows that the module takes them all from there. Drawings
are Pillow strokes (round-jointed lines, arcs, curves) on transparent canvases of several sizes, thin
to thick brushes, small to large, off-centre, tall-narrow and wide-flat, some soft-edged, so every
branch of to_kmnist runs: kept strokes, thickened (MaxFilter), thinned (MinFilter), Pillow's
vertical-first Lanczos pass, and each BlankDrawingError.
"""

from __future__ import annotations

import math
import random
from collections import Counter

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFilter

from kmnist import drawing
from kmnist.data.pixels import IMAGE_SIDE
from tests.browser.helpers import record_timing
from tests.conftest import ROOT

MODULE = ROOT / "kmnist" / "ui" / "sketch_pad" / "assets" / "preprocess.js"
ORIGIN = "http://parity.test"
PAGE = "<!doctype html><title>preprocess parity</title>"
RANDOM_DRAWINGS = 260
SIZES = [(280, 280)] * 6 + [(200, 320), (360, 180), (128, 128), (400, 400), (97, 151)]
BRUSHES = [2, 3, 4, 5, 6, 8, 10, 12, 16, 20, 24, 32, 40]
OTHER_DRAWINGS = 80  # drawings also prepared on OTHER_FACTS
OTHER_FACTS = {"INK_THRESHOLD": 0.3, "STROKE_LEVEL": 0.5, "ALPHA_SPREAD": 0.25, "ALL_INK": 0.5,
               "MIN_EXTENT": 0.1, "TARGET_STROKE": 2.4, "THIN_STROKE": 1.6, "THICK_STROKE": 2.6,
               "DOT_RATIO": 4.0, "WORK_SIZE": 84}

RUN_IN_PAGE = """async ({layout, timed, facts}) => {
    const pre = (await import('/preprocess.js')).preprocessing(facts);
    const bytes = new Uint8Array(await (await fetch('/drawings.bin')).arrayBuffer());
    const alphaOf = ([offset, w, h]) => [bytes.subarray(offset, offset + w * h), w, h];
    const results = layout.map((place) => {
        try {
            const out = pre.toKmnist(...alphaOf(place));
            return out.error !== undefined ? {error: out.error} : {image: Array.from(out.image)};
        } catch (error) {
            return {thrown: String(error)};
        }
    });
    // performance.now() is coarsened in a page, so each of the 50 samples times 20 calls
    const medians = timed.map((index) => {
        const args = alphaOf(layout[index]);
        for (let i = 0; i < 20; i++) pre.toKmnist(...args);  // warm the JIT up
        const samples = [];
        for (let s = 0; s < 50; s++) {
            const start = performance.now();
            for (let i = 0; i < 20; i++) pre.toKmnist(...args);
            samples.push((performance.now() - start) / 20);
        }
        samples.sort((a, b) => a - b);
        return (samples[24] + samples[25]) / 2;
    });
    return {results, medians};
}"""


def stroke(pen: ImageDraw.ImageDraw, points, brush: int, level: int) -> None:
    """A round-jointed, round-capped polyline, as the canvas draws one."""
    pen.line(points, fill=level, width=brush, joint="curve")
    r = brush / 2
    for x, y in (points[0], points[-1]):
        pen.ellipse([x - r, y - r, x + r, y + r], fill=level)


def random_drawing(rng: random.Random) -> tuple[str, Image.Image]:
    """Alpha of a random drawing: 1-4 strokes (lines, arcs, Bezier curves) in a random box."""
    w, h = rng.choice(SIZES)
    brush = rng.choice(BRUSHES)
    shape = rng.choice(["any", "any", "any", "tall", "wide", "small"])
    side = min(w, h) * rng.uniform(0.3, 0.95)
    box_w, box_h = side * rng.uniform(0.6, 1.0), side * rng.uniform(0.6, 1.0)
    if shape == "tall":
        box_h, box_w = max(w, h) * rng.uniform(0.5, 0.95), side * rng.uniform(0.02, 0.2)
        box_h = min(box_h, h - 2)
    elif shape == "wide":
        box_w, box_h = max(w, h) * rng.uniform(0.5, 0.95), side * rng.uniform(0.02, 0.2)
        box_w = min(box_w, w - 2)
    elif shape == "small":
        box_w, box_h = min(w, h) * rng.uniform(0.05, 0.2), min(w, h) * rng.uniform(0.05, 0.2)
    left, top = rng.uniform(0, w - box_w), rng.uniform(0, h - box_h)  # anywhere: often off-centre

    def point():
        return left + rng.uniform(0, box_w), top + rng.uniform(0, box_h)

    level = 255 if rng.random() < 0.85 else rng.randint(60, 254)
    alpha = Image.new("L", (w, h), 0)
    pen = ImageDraw.Draw(alpha)
    for _ in range(rng.randint(1, 4)):
        kind = rng.choice(["line", "curve", "arc"])
        if kind == "line":
            stroke(pen, [point() for _ in range(rng.randint(2, 5))], brush, level)
        elif kind == "curve":  # a quadratic Bezier, as a polyline of 24 segments
            (ax, ay), (bx, by), (cx, cy) = point(), point(), point()
            ts = [i / 24 for i in range(25)]
            stroke(pen, [((1 - t) ** 2 * ax + 2 * t * (1 - t) * bx + t * t * cx,
                          (1 - t) ** 2 * ay + 2 * t * (1 - t) * by + t * t * cy) for t in ts], brush, level)
        else:
            (x0, y0), (x1, y1) = point(), point()
            start = rng.uniform(0, 360)
            pen.arc([min(x0, x1), min(y0, y1), max(x0, x1) + 1, max(y0, y1) + 1], start,
                    start + rng.uniform(30, 300), fill=level, width=brush)
    if rng.random() < 0.3:  # soft edges, like the canvas's anti-aliasing
        alpha = alpha.filter(ImageFilter.GaussianBlur(rng.uniform(0.5, 2.5)))
    return f"{shape} {w}x{h} brush {brush}", alpha


def special_drawings() -> list[tuple[str, Image.Image]]:
    """Blank, uniform, faint, dot and almost-all-ink canvases."""
    cases = [("blank", Image.new("L", (280, 280), 0)), ("all opaque", Image.new("L", (280, 280), 255))]
    for level in (20, 25, 26, 27, 51, 52, 53):  # around the 0.1 alpha span and the 0.2 ink threshold
        alpha = Image.new("L", (280, 280), 0)
        stroke(ImageDraw.Draw(alpha), [(40, 40), (240, 200), (60, 230)], 12, level)
        cases.append((f"one stroke at level {level}", alpha))
    for brush, size in ((20, (280, 280)), (40, (280, 280)), (3, (280, 280)), (8, (400, 400)), (6, (97, 151))):
        alpha = Image.new("L", size, 0)
        stroke(ImageDraw.Draw(alpha), [(50, 50), (53, 52)], brush, 255)
        cases.append((f"dot brush {brush} {size}", alpha))
    for hole in (0.05, 0.1, 0.2, 0.3, 0.45):  # a filled canvas with a transparent corner
        alpha = Image.new("L", (280, 280), 255)
        ImageDraw.Draw(alpha).rectangle([0, 0, 280 * hole, 280 * hole], fill=0)
        cases.append((f"filled, hole {hole}", alpha))
    cases.append(("1 pixel high", Image.new("L", (280, 1), 255)))
    for level in (60, 80):  # too faint to leave ink on the work grid
        alpha = Image.new("L", (280, 280), 0)
        ImageDraw.Draw(alpha).line([(10, 10), (270, 270)], fill=level, width=1)
        cases.append((f"faint 1-pixel line at level {level}", alpha))
    return cases


def branch(alpha: Image.Image) -> tuple[str, bool]:
    """Which way Python's to_kmnist goes, and whether its first Lanczos resize runs vertical-first."""
    rgba = canvas(alpha)
    try:
        drawing.to_kmnist(rgba)
    except drawing.BlankDrawingError as error:
        return f"error: {str(error).split(':')[0]}", False
    crop = drawing._crop_to_ink(drawing.ink_map(rgba))
    height, width = crop.shape
    scale = drawing.WORK_SIZE / max(height, width)
    out_w, out_h = max(1, round(width * scale)), max(1, round(height * scale))
    vertical_first = height - out_h > 0 and height - out_h > (width - out_w) * 2
    stroke_28 = drawing.stroke_width(drawing._fit(crop, drawing.WORK_SIZE)) * IMAGE_SIDE / drawing.WORK_SIZE
    if stroke_28 < drawing.THIN_STROKE:
        return "thickened (MaxFilter)", vertical_first
    if stroke_28 > drawing.THICK_STROKE:
        return "thinned (MinFilter)", vertical_first
    return "kept", vertical_first


def canvas(alpha: Image.Image) -> Image.Image:
    """What the canvas holds: RGB 0 everywhere, the drawing in alpha."""
    black = Image.new("L", alpha.size, 0)
    return Image.merge("RGBA", (black, black, black, alpha))


@pytest.mark.browser
def test_javascript_preprocessing_matches_python(chromium, monkeypatch):
    rng = random.Random(20240611)
    cases = [random_drawing(rng) for _ in range(RANDOM_DRAWINGS)] + special_drawings()
    blob, layout = bytearray(), []
    for _, alpha in cases:
        layout.append((len(blob), *alpha.size))
        blob += alpha.tobytes()
    timed = {}  # a 280x280 drawing of each branch, for the timing
    for index, (name, alpha) in enumerate(cases):
        if name.startswith("any 280x280"):
            timed.setdefault(branch(alpha)[0], (name, index))

    context = chromium.new_context()
    try:
        files = {"/": (PAGE, "text/html"), "/preprocess.js": (MODULE.read_bytes(), "text/javascript"),
                 "/drawings.bin": (bytes(blob), "application/octet-stream")}

        def answer(route):
            body, content_type = files[route.request.url.removeprefix(ORIGIN)]
            route.fulfill(status=200, body=body, content_type=content_type)

        page = context.new_page()
        page.route(f"{ORIGIN}/**", answer)
        page.goto(f"{ORIGIN}/")
        answers = page.evaluate(RUN_IN_PAGE, {"layout": layout, "timed": [i for _, i in timed.values()],
                                              "facts": drawing.pad_facts()})
        with monkeypatch.context() as moved:
            for name, value in OTHER_FACTS.items():
                moved.setattr(drawing, name, value)
            moved.setattr(drawing, "MESSAGES", {key: f"({key}) {text}" for key, text in
                                                drawing.MESSAGES.items()})
            other = page.evaluate(RUN_IN_PAGE, {"layout": layout[:OTHER_DRAWINGS], "timed": [],
                                                "facts": drawing.pad_facts()})
            other_mismatches = compare(cases[:OTHER_DRAWINGS], other["results"])[-1]
    finally:
        context.close()

    branches, vertical_first, worst, exact, mismatches = compare(cases, answers["results"])

    images = sum(n for taken, n in branches.items() if not taken.startswith("error"))
    summary = ", ".join(f"{taken}: {n}" for taken, n in sorted(branches.items()))
    print(f"\n{len(cases)} drawings; {summary}; vertical-first resizes: {vertical_first}; "
          f"{exact}/{images} images identical, max difference {worst}")
    for (taken, (name, _)), median in zip(timed.items(), answers["medians"], strict=True):
        record_timing(f"preprocess.js toKmnist in Chromium, {name} ({taken}): {median:.3f} ms a call "
                      "(median of 50 samples of 20 calls)")
    assert not mismatches, "\n".join(mismatches[:20])
    assert worst <= 1e-6
    errors = [f"error: {message}" for message in ("the canvas shows no strokes (it is empty, or filled with "
                                                  "one colour)", "the drawing is only a dot",
                                                  "the drawing is almost all ink")]
    for taken in ["kept", "thickened (MaxFilter)", "thinned (MinFilter)", *errors]:
        assert branches[taken] >= 3, f"only {branches[taken]} drawings took the branch {taken!r}: {summary}"
    assert vertical_first >= 5, f"only {vertical_first} drawings resized vertical-first"
    assert all(math.isfinite(median) for median in answers["medians"])
    assert not other_mismatches, "\n".join(other_mismatches[:20])  # on other facts, still Python's answers
    changed = sum(a != b for a, b in zip(answers["results"], other["results"], strict=False))
    assert changed >= OTHER_DRAWINGS // 2, f"other facts changed only {changed} answers"


def compare(cases, results) -> tuple[Counter, int, float, int, list[str]]:
    """The JavaScript `results` against Python's to_kmnist on `cases`: the branches Python took, how many
    resized vertical-first, the largest difference, how many images are identical, and the mismatches."""
    branches, vertical_first, worst, exact, mismatches = Counter(), 0, 0.0, 0, []
    for (name, alpha), answer in zip(cases, results, strict=True):
        try:
            expected, expected_error = drawing.to_kmnist(canvas(alpha)), None
        except drawing.BlankDrawingError as error:
            expected, expected_error = None, str(error)
        taken, vertical = branch(alpha)
        branches[taken] += 1
        vertical_first += vertical
        if expected_error is not None or "error" in answer:
            if answer.get("error") != expected_error:
                mismatches.append(f"{name}: Python says {expected_error!r}, JavaScript {answer}")
            continue
        got = np.array(answer["image"], dtype=np.float64)
        difference = float(np.abs(got - expected.astype(np.float64).ravel()).max())
        worst = max(worst, difference)
        exact += difference == 0.0
        if difference > 1e-6:
            mismatches.append(f"{name}: images differ by up to {difference}")
    return branches, vertical_first, worst, exact, mismatches
