"""The pad on a phone and a tablet (touch, through Chrome's DevTools protocol), undo and the eraser, the
alternative to drawing, and every page at phone, tablet and desktop sizes with no horizontal scroll.

Playwright has no touch drag, so touches are sent as CDP `Input.dispatchTouchEvent`s, which Chromium turns
into the pointer events a finger makes. Screenshots of every page at the three sizes are kept under
artifacts/browser/pages/<size>/.
"""

import time

import pytest

from kmnist.data.classes import CLASSES
from tests.browser.drawing import (
    BLANK_HINT,
    PREDICTION,
    draw,
    ink_pixels,
    pad,
    pad_canvas,
    wait_until_pad_idle,
    wait_until_pad_ready,
)
from tests.browser.helpers import (
    OVERFLOW_JS,
    TIMEOUT_MS,
    assert_no_errors,
    open_page,
    save_screenshot,
    too_wide,
    wait_for_app,
)

PHONE, TABLET = (390, 844), (768, 1024)
PATHS = ["", "dataset", "training", "compare", "layers", "sketch", "pooling"]
MAIN_SCROLL_JS = "() => document.querySelector(\"[data-testid='stMain']\").scrollTop"


def touch_context(chromium, size):
    context = chromium.new_context(viewport={"width": size[0], "height": size[1]}, has_touch=True,
                                   is_mobile=True)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    return context, page, context.new_cdp_session(page)


def touches(cdp, kind: str, points) -> None:
    cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": [
        {"x": x, "y": y, "id": finger} for finger, (x, y) in enumerate(points)]})


def finger_draw(cdp, origin, strokes, scale: float) -> None:
    """`strokes` (in the 280-pixel canvas's coordinates) drawn with one finger on a canvas shown `scale`
    times its size."""
    x0, y0 = origin
    for stroke in strokes:
        (ax, ay), (bx, by) = stroke[0], stroke[-1]
        steps = max(2, int(abs(bx - ax) // 20))
        for step in range(steps + 1):
            x, y = ax + (bx - ax) * step / steps, ay + (by - ay) * step / steps
            touches(cdp, "touchStart" if step == 0 else "touchMove", [(x0 + x * scale, y0 + y * scale)])
        touches(cdp, "touchEnd", [])


def on_screen(box, size) -> bool:
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= size[1] and box["x"] >= 0 \
        and box["x"] + box["width"] <= size[0]


@pytest.mark.browser
@pytest.mark.parametrize("size", [PHONE, TABLET], ids=["phone", "tablet"])
def test_the_pad_works_by_touch_with_canvas_and_prediction_on_screen_together(chromium, app_server, examples,
                                                                            size):
    context, page, cdp = touch_context(chromium, size)
    try:
        open_page(page, app_server, "sketch")
        wait_until_pad_ready(page)
        canvas = pad_canvas(page)
        canvas.evaluate("c => c.scrollIntoView({block: 'center'})")
        box = canvas.bounding_box()
        example = examples[min(examples)][0]
        finger_draw(cdp, (box["x"], box["y"]), example.strokes, box["width"] / 280)
        wait_until_pad_idle(page)
        prediction = pad(page).locator(PREDICTION)
        assert example.expected.match(prediction.inner_text()), prediction.inner_text()
        # the canvas and the answer are both in the window, as drawn (nothing was scrolled)
        assert on_screen(canvas.bounding_box(), size), (canvas.bounding_box(), size)
        assert on_screen(prediction.bounding_box(), size), (prediction.bounding_box(), size)
        assert page.evaluate(OVERFLOW_JS) == [size[0]] * 2
        width, window = pad(page).locator("body").evaluate(OVERFLOW_JS)
        assert width <= window, f"the pad is {width} px wide in a {window} px frame"

        # two fingers on the canvas scroll the page and draw nothing
        pad(page).get_by_role("button", name="Clear the canvas").click()
        pad(page).get_by_text(BLANK_HINT).wait_for()
        box, before = canvas.bounding_box(), page.evaluate(MAIN_SCROLL_JS)
        x, y = box["x"] + box["width"] / 3, box["y"] + box["height"] / 2
        touches(cdp, "touchStart", [(x, y)])
        touches(cdp, "touchStart", [(x, y), (x + 60, y)])
        for step in range(1, 15):
            touches(cdp, "touchMove", [(x, y - 6 * step), (x + 60, y - 6 * step)])
        touches(cdp, "touchEnd", [])
        wait_until_pad_idle(page)
        assert ink_pixels(page) == 0, "a two-finger scroll drew on the canvas"
        assert pad(page).get_by_text(BLANK_HINT).is_visible()
        assert page.evaluate(MAIN_SCROLL_JS) > before, "a two-finger swipe up did not scroll the page"
        save_screenshot(page, f"{'phone' if size == PHONE else 'tablet'}/sketch-touched")
    finally:
        context.close()


@pytest.mark.browser
def test_undo_takes_back_strokes_and_a_clear_and_the_eraser_rubs_out(page, app_server):
    open_page(page, app_server, "sketch")
    wait_until_pad_ready(page)
    buttons = {name: pad(page).get_by_role("button", name=name)
               for name in ("Undo", "Eraser", "Clear the canvas")}
    assert buttons["Undo"].is_disabled(), "Undo is offered before anything was drawn"
    draw(page, [[(60.0, 80.0), (220.0, 80.0)]])
    one = ink_pixels(page)
    draw(page, [[(60.0, 200.0), (220.0, 200.0)]])
    two = ink_pixels(page)
    assert two > 1.5 * one
    buttons["Undo"].click()
    assert ink_pixels(page) == one, "Undo did not take back exactly the last stroke"

    buttons["Eraser"].click()
    assert buttons["Eraser"].get_attribute("aria-pressed") == "true"
    draw(page, [[(140.0, 40.0), (140.0, 120.0)]])  # across the remaining stroke
    erased = ink_pixels(page)
    assert 0 < erased < one, f"the eraser left {erased} of {one} pixels"
    buttons["Eraser"].click()
    assert buttons["Eraser"].get_attribute("aria-pressed") == "false"

    buttons["Clear the canvas"].click()
    pad(page).get_by_text(BLANK_HINT).wait_for()
    buttons["Undo"].click()  # a cleared drawing comes back
    wait_until_pad_idle(page)
    assert ink_pixels(page) == erased
    pad(page).locator(PREDICTION).wait_for()
    assert_no_errors(page)


@pytest.mark.browser
def test_without_drawing_a_test_image_can_be_classified_and_looked_inside(page, app_server):
    """The pad's alternative for someone who cannot draw: keyboard only."""
    open_page(page, app_server, "sketch")
    page.get_by_text("Cannot draw? Classify a test image instead").click()  # a toggle
    choice = page.get_by_role("combobox", name="Class", exact=True)
    choice.click()
    choice.fill(CLASSES[3].name)  # typing filters the list, as a keyboard user would
    page.get_by_role("option", name=CLASSES[3].label).click()
    wait_for_app(page)
    said = page.locator("[data-testid='stMarkdownContainer'] p", has_text="Read as").filter(
        has_text="test image #")
    said.filter(has_text=f"is {CLASSES[3].name}").wait_for()  # the page redrawn for the chosen class (the
    # first class's line shows until then)
    page.get_by_role("img", name=f"a handwritten {CLASSES[3].label}").first.wait_for()
    page.get_by_role("button", name="Look inside").last.click()
    page.wait_for_url("**/layers")
    wait_for_app(page)
    assert page.get_by_text("test image #").first.is_visible()
    assert_no_errors(page)


# px of the pad's frame below the content inside it (negative: content cut off), once the frame's height
# has settled (unchanged for 0.5 s after the last change: the page inside asks for its height after a resize)
BLANK_BAND_JS = """() => {
  const frame = document.querySelector("iframe[title='kmnist.ui.sketch_pad.component.sketch_pad']");
  const inside = frame && frame.contentDocument && frame.contentDocument.body;
  if (!inside) return false;
  const height = frame.getBoundingClientRect().height, now = performance.now();
  if (window.__padHeight !== height) { window.__padHeight = height; window.__padSince = now; return false; }
  return now - window.__padSince >= 500 ? {band: height - inside.scrollHeight} : false;
}"""


@pytest.mark.browser
def test_every_page_fits_a_phone_and_a_tablet_without_a_sideways_scroll(chromium, app_server):
    """Each page opened once on a phone, then seen at the tablet's size (the window resized, as when a
    tablet turns), each size's screenshot kept. (At the desktop size, test_pages.py does the same.)"""
    sizes = {"phone": PHONE, "tablet": TABLET}
    context = chromium.new_context(viewport={"width": PHONE[0], "height": PHONE[1]}, has_touch=True,
                                   is_mobile=True)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    wide, bands = {}, {}
    try:
        for path in PATHS:
            page.set_viewport_size({"width": PHONE[0], "height": PHONE[1]})
            open_page(page, app_server, path)
            if path == "sketch":
                wait_until_pad_ready(page)
            for name, (width, height) in sizes.items():
                page.set_viewport_size({"width": width, "height": height})
                time.sleep(0.5)  # charts and frames take their width after the script run or a resize
                wide |= {f"{name}: {where}": px for where, px in too_wide(page, path).items()}
                save_screenshot(page, f"{name}/{path or 'home'}")
                if path == "sketch":  # the pad's frame as tall as its content at each size: no blank band
                    bands[name] = page.wait_for_function(BLANK_BAND_JS, polling=200).json_value()["band"]
            assert_no_errors(page)
    finally:
        context.close()
    assert not wide, f"pages wider than the screen (content px, window px): {wide}"
    assert all(-1 <= band <= 2 for band in bands.values()), f"pad frame px below its content: {bands}"
