"""Sketch pad and Layer visualizer: a user draws real KMNIST characters with the mouse."""

import re
import time

import pytest

from tests.browser.drawing import BLANK_HINT, draw, ink_pixels, prediction_pattern
from tests.browser.helpers import assert_no_errors, open_page, plotly_points, record_timing, wait_for_app

ANY_PREDICTION = prediction_pattern()


def prediction(page):
    return page.get_by_role("heading", name=ANY_PREDICTION)


def clear_canvas(page) -> None:
    """Press Clear and wait until the page shows the blank hint again on an empty canvas."""
    page.get_by_role("button", name="🧹 Clear the canvas").click()
    page.get_by_text(BLANK_HINT).wait_for()
    wait_for_app(page)
    prediction(page).wait_for(state="detached")
    assert ink_pixels(page) == 0, "the canvas still shows ink after Clear"


def draw_and_read(page, example) -> float:
    """Draw `example` on a clear canvas; wait for its class to be predicted; returns the latency (s)."""
    released = draw(page, example.strokes)
    page.get_by_role("heading", name=example.expected).wait_for(timeout=120_000)
    latency = time.monotonic() - released
    wait_for_app(page)  # the last stroke's run is done: the prediction shown is the final one
    assert example.expected.match(prediction(page).inner_text().strip()), prediction(page).inner_text()
    return latency


@pytest.mark.browser
def test_sketch_pad_reads_characters_drawn_with_the_mouse(page, app_server, examples):
    open_page(page, app_server, "sketch")
    page.get_by_text(BLANK_HINT).wait_for()
    assert ink_pixels(page) == 0

    # One stroke on a blank canvas: how long until the prediction appears.
    released = draw(page, [[(60.0, 60.0), (220.0, 200.0)]])
    prediction(page).wait_for()
    record_timing(f"stroke (mouse up) -> prediction shown, one stroke on a blank canvas: "
                  f"{time.monotonic() - released:.2f} s")
    assert ink_pixels(page) > 100
    assert page.get_by_text("the 28x28 model input (enlarged)").is_visible()
    clear_canvas(page)

    latencies = []
    for label, chosen in examples.items():
        example = chosen[0]
        latencies.append(draw_and_read(page, example))
        assert ink_pixels(page) > 1000, "the drawing is not on the canvas"
        assert page.locator(".st-key-top_classes .js-plotly-plot").is_visible()
        assert_no_errors(page)
        print(f"drew test image #{example.position} ({example.char}, {len(example.strokes)} strokes): "
              f"{prediction(page).inner_text()}")
        clear_canvas(page)
        assert label in examples
    record_timing("last stroke (mouse up) -> correct prediction shown, whole characters: "
                  + ", ".join(f"{latency:.2f} s" for latency in latencies))


@pytest.mark.browser
def test_look_inside_shows_the_feature_maps_of_the_drawing(page, app_server, examples):
    example = next(iter(examples.values()))[0]
    open_page(page, app_server, "sketch")
    page.get_by_text(BLANK_HINT).wait_for()
    draw_and_read(page, example)
    page.get_by_role("button", name=re.compile("Look inside")).click()

    page.get_by_role("heading", name="🧩 Layer visualizer", exact=True).wait_for()
    wait_for_app(page)
    assert page.url.rstrip("/").endswith("/layers")
    assert page.get_by_role("radio", name="My drawing (Sketch pad)").is_checked()
    assert page.get_by_text("your drawing, as the model sees it (28x28)").is_visible()
    assert page.get_by_text(example.expected).is_visible()  # the drawing's prediction, repeated here
    maps = page.locator("[class*='st-key-maps_']")
    assert maps.count() >= 2, "expected feature maps of several layers"
    for index in range(maps.count()):
        chart = maps.nth(index)
        chart.scroll_into_view_if_needed()
        assert chart.locator(".js-plotly-plot").is_visible()
        assert plotly_points(chart) > 0, f"feature-map chart {index} is empty"
    assert_no_errors(page)
