"""Sketch pad: a user draws real KMNIST characters with the mouse; the page classifies them itself.

The pad runs the model's ONNX twin with onnxruntime-web in the page. These tests check that it reads
real characters, that what it computes equals what Python computes (the 28x28 input and the
probabilities), that it answers during a stroke with no request to the server, that Look inside still
works, and that the server classifies when the browser cannot (no WebAssembly).
"""

import re
import time

import numpy as np
import pytest

from kmnist import drawing as kdrawing
from kmnist.ui.navigation import LAYERS
from tests.browser.drawing import (
    BLANK_HINT,
    BRUSH,
    PREDICTION,
    draw,
    ink_pixels,
    pad,
    pad_alpha,
    pad_stats,
    prediction_pattern,
    server_canvas,
    wait_until_pad_idle,
    wait_until_pad_ready,
)
from tests.browser.helpers import assert_no_errors, heading, open_page, record_timing, wait_for_app

ANY_PREDICTION = prediction_pattern()
PAD_FACTS_JS = """() => {
    const $ = (id) => document.getElementById(id), canvas = $("canvas"), box = canvas.getBoundingClientRect();
    return {brush: [$("brush").min, $("brush").max, $("brush").value, $("brush-value").textContent],
            canvas: [canvas.width, canvas.height, box.width, box.height],
            unsure: $("unsure").textContent, hint: $("hint").textContent};
}"""


def shown(page) -> str:
    return pad(page).locator(PREDICTION).inner_text().strip()


def clear(page) -> None:
    pad(page).get_by_role("button", name="Clear the canvas").click()
    pad(page).get_by_text(BLANK_HINT).wait_for()
    assert ink_pixels(page) == 0, "the canvas still shows ink after Clear"


def draw_and_read(page, example) -> str:
    """Draw `example` on a clear pad and return the prediction the page then shows."""
    draw(page, example.strokes)
    wait_until_pad_idle(page)
    return shown(page)


def percentiles(values) -> str:
    values = np.asarray(values)
    return (f"p50 {np.percentile(values, 50):.1f} ms, p95 {np.percentile(values, 95):.1f} ms, "
            f"max {values.max():.1f} ms over {len(values)}")


@pytest.mark.browser
def test_sketch_pad_reads_characters_drawn_with_the_mouse_in_the_page(page, app_server, examples):
    sent = []
    page.on("websocket", lambda socket: socket.on("framesent", lambda frame: sent.append(frame)))
    open_page(page, app_server, "sketch")
    wait_until_pad_ready(page)
    assert "in your browser" in pad(page).get_by_test_id("kmnist-engine").inner_text()
    pad(page).get_by_text(BLANK_HINT).wait_for()
    assert ink_pixels(page) == 0
    facts = pad(page).locator("body").evaluate(PAD_FACTS_JS)  # what the page shows, from kmnist.drawing
    assert facts == {"brush": [str(kdrawing.BRUSH_MIN), str(kdrawing.BRUSH_MAX), str(kdrawing.BRUSH_DEFAULT),
                               str(kdrawing.BRUSH_DEFAULT)],
                     "canvas": [kdrawing.CANVAS_SIZE] * 4, "unsure": kdrawing.UNSURE,
                     "hint": kdrawing.NOTHING_YET.format(reason=kdrawing.MESSAGES["blank"])}, facts
    requests = []
    page.on("request", lambda request: requests.append(request))
    sent.clear()

    draw(page, [[(60.0, 60.0), (220.0, 200.0)]])
    pad(page).locator(PREDICTION).wait_for()
    assert ANY_PREDICTION.match(shown(page)), shown(page)
    assert pad(page).get_by_text("the 28x28 model input (enlarged)").is_visible()
    assert pad(page).locator("#bars span.share").count() == 3
    top = max(pad_stats(page, "s.lastProbabilities"))  # a line: the warning shows when no class is likely
    assert pad(page).locator("#unsure").is_visible() == (top < kdrawing.CONFIDENT), top
    clear(page)

    for label, chosen in examples.items():
        example = chosen[0]
        text = draw_and_read(page, example)
        assert example.expected.match(text), f"drew #{example.position} ({example.char}), saw {text}"
        assert ink_pixels(page) > 1000, "the drawing is not on the canvas"
        print(f"drew test image #{example.position} ({example.char}, {len(example.strokes)} strokes): {text}")
        clear(page)
        assert label in examples
    assert not requests, f"drawing made requests: {[r.url for r in requests]}"
    assert not sent, f"drawing sent {len(sent)} websocket messages to the server"
    latencies = pad_stats(page, "s.releaseLatencies")
    record_timing(f"in-page sketch pad, one user: mouse up -> prediction shown: {percentiles(latencies)}")
    assert_no_errors(page)


@pytest.mark.browser
def test_the_page_prepares_drawings_exactly_as_python_does(page, app_server, examples):
    """The 28x28 input computed in the page, for drawings made with the mouse at several brush widths,
    equals kmnist.drawing.to_kmnist of the same canvas pixels."""
    open_page(page, app_server, "sketch")
    wait_until_pad_ready(page)
    compared = 0
    for width, example in zip((8, BRUSH, 30, 40), [e for chosen in examples.values() for e in chosen],
                              strict=False):
        pad(page).locator("#brush").fill(str(width))
        draw_and_read(page, example)
        alpha = pad_alpha(page)
        in_page = np.asarray(pad_stats(page, "Array.from(s.lastImage)"), "float32").reshape(28, 28)
        rgba = np.zeros((*alpha.shape, 4), "uint8")
        rgba[..., 3] = alpha
        in_python = kdrawing.to_kmnist(rgba)
        difference = float(np.abs(in_page - in_python).max())
        assert difference <= 1e-6, f"brush {width}: page and Python inputs differ by {difference}"
        compared += 1
        clear(page)
    assert compared == 4


@pytest.mark.browser
def test_the_page_computes_the_same_probabilities_as_python(page, app_server, kmnist_data):
    """20 test images, fed to the page's model as the same 28x28 inputs, get Python's probabilities."""
    import onnxruntime

    from kmnist.data.pixels import to_float
    from kmnist.registry import store
    from kmnist.registry.inference import load_classifier

    open_page(page, app_server, "sketch")
    wait_until_pad_ready(page)
    images = to_float(kmnist_data.x_test[:20])
    in_page = np.asarray(pad(page).locator("body").evaluate(
        """async (body, images) => {
            const rows = [];
            for (const image of images) {
                const outputs = await window.kmnistSketch.classify(image.flat());
                rows.push(Array.from(outputs.probabilities.data));
            }
            return rows;
        }""", images.tolist()))
    model_path = store.model_path(store.DEFAULT_MODEL, app_server["models"])
    classifier = load_classifier(model_path)
    assert isinstance(classifier.session, onnxruntime.InferenceSession)  # the twin, verified
    in_python = classifier.probabilities(images[..., None])
    keras_model = store.load_model(model_path)
    in_keras = np.asarray(keras_model.predict_on_batch(images[..., None]))
    assert in_page.shape == (20, 10)
    record_timing(f"browser vs Python probabilities, 20 test images: max difference "
                  f"{np.abs(in_page - in_python).max():.2e} (ONNX Runtime), "
                  f"{np.abs(in_page - in_keras).max():.2e} (Keras)")
    assert np.abs(in_page - in_python).max() <= 1e-4
    assert np.abs(in_page - in_keras).max() <= 1e-4
    assert (in_page.argmax(axis=1) == kmnist_data.y_test[:20]).mean() >= 0.8


@pytest.mark.browser
def test_the_prediction_updates_while_a_stroke_is_drawn(page, app_server):
    open_page(page, app_server, "sketch")
    wait_until_pad_ready(page)
    canvas = pad(page).locator("#canvas")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    points = [(40 + 200 * t, 50 + 180 * t * t) for t in np.linspace(0, 1, 90)]  # a curve, ~1.5 s long
    before = pad_stats(page, "s.updates.length")
    page.mouse.move(box["x"] + points[0][0], box["y"] + points[0][1])
    page.mouse.down()
    started = time.monotonic()
    for x, y in points[1:]:
        page.mouse.move(box["x"] + x, box["y"] + y)
        time.sleep(0.015)
    seconds = time.monotonic() - started
    page.mouse.up()
    pad(page).locator(PREDICTION).wait_for()
    during = pad_stats(page, f"s.updates.slice({before}).filter(u => u.drawing)")
    answered = [u for u in during if u["shown"]]
    rate = len(during) / seconds
    record_timing(f"in-page sketch pad: {len(during)} updates during a {seconds:.1f} s stroke "
                  f"({rate:.0f} per second; each {percentiles([u['ms'] for u in during])})")
    assert rate >= 10, f"only {rate:.1f} updates per second while drawing"
    assert len({u["shown"] for u in answered}) >= 2, "the prediction never changed during the stroke"


@pytest.mark.browser
def test_look_inside_shows_the_feature_maps_of_the_drawing(page, app_server, examples):
    example = next(iter(examples.values()))[0]
    open_page(page, app_server, "sketch")
    wait_until_pad_ready(page)
    draw_and_read(page, example)
    assert pad(page).locator("#conv-maps canvas").count() >= 8  # the first layers, live, in the page
    assert pad(page).locator("#pool-maps canvas").count() >= 8
    pad(page).get_by_role("button", name="Look inside").click()

    page.get_by_role("heading", name=heading(LAYERS), exact=True).wait_for()
    wait_for_app(page)
    assert page.url.rstrip("/").endswith("/layers")
    assert page.get_by_role("radio", name="My drawing (Sketch pad)").is_checked()
    assert page.get_by_text("your drawing, as the model sees it (28x28)").is_visible()
    assert page.get_by_text(example.expected).is_visible()  # the drawing's prediction, repeated here
    maps = page.locator("[class*='st-key-maps_']")
    assert maps.count() >= 2, "expected feature maps of several layers"
    assert_no_errors(page)


@pytest.mark.browser
def test_the_server_classifies_when_the_browser_has_no_webassembly(page, app_server, examples):
    page.add_init_script("delete globalThis.WebAssembly;")  # in every frame, before any script
    open_page(page, app_server, "sketch")
    page.get_by_text(re.compile(r"^Classified on the server by ONNX Runtime: the model cannot run "
                                r"in this browser \(this browser has no WebAssembly\)")).wait_for()
    wait_for_app(page)
    page.get_by_text(BLANK_HINT).wait_for()
    example = next(iter(examples.values()))[0]
    draw(page, example.strokes, canvas=server_canvas(page))
    page.get_by_role("heading", name=example.expected).wait_for()
    # the canvas's own toolbar (undo, redo, delete) sits between the brush and the canvas, over neither
    toolbar = page.locator(".st-key-sketch_canvas button").first.bounding_box()
    brush = page.locator(".st-key-brush").bounding_box()
    assert toolbar["y"] >= brush["y"] + brush["height"], (toolbar, brush)
    assert toolbar["y"] + toolbar["height"] <= server_canvas(page).bounding_box()["y"]
    page.get_by_text("First pooling", exact=False).first.wait_for()  # the maps, as in the page's pad
    assert_no_errors(page)


@pytest.mark.browser
def test_first_and_later_visits_load_the_pad_quickly_and_from_the_cache(chromium, fresh_server, request):
    """Cold server and empty browser cache, then a later visit: time to the first possible prediction, and
    what the pad's files cost to transfer."""
    from tests.browser.conftest import keep_evidence

    context = chromium.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    transferred = []
    page.on("requestfinished", lambda r: transferred.append((r.url, r.sizes()["responseBodySize"])))
    figures = []
    try:
        for visit in ("cold server, first visit", "warm server, later visit"):
            transferred.clear()
            started = time.monotonic()
            page.goto(f"{fresh_server['url']}/sketch")
            wait_until_pad_ready(page, timeout_s=120)
            seconds = time.monotonic() - started
            pad_bytes = sum(size for url, size in transferred if "/component/kmnist.ui.sketch_pad" in url)
            all_bytes = sum(size for _, size in transferred)
            sources = pad_stats(page, "s.loadedFrom")
            figures.append((visit, seconds, pad_bytes, all_bytes, sources))
            record_timing(f"sketch pad opened -> first prediction possible ({visit}): {seconds:.2f} s; "
                          f"the pad's files {pad_bytes / 1e6:.2f} MB, the whole page "
                          f"{all_bytes / 1e6:.2f} MB transferred; runtime and model from "
                          f"{sorted(set(sources))}")
        (_, _, first_pad, _, first_sources), (_, _, later_pad, _, later_sources) = figures
        assert first_pad <= 5e6, f"the first visit transferred {first_pad / 1e6:.2f} MB of pad files"
        assert set(first_sources) == {"network"} and set(later_sources) == {"cache"}
        assert later_pad < 100_000, "a later visit downloaded the runtime or the model again"
    finally:
        keep_evidence(request, page, fresh_server)
        context.close()
