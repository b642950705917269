"""Compare runs in a browser: a click on a confusion-matrix cell shows that cell's test images, and one of
them opens in the Layer visualizer."""

import re
import time

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from kmnist import confusion, inference, store
from kmnist.classes import CLASSES
from kmnist.images import to_model_input
from kmnist.ui.confusion_view import MAX_SHOWN
from kmnist.ui.navigation import LAYERS
from tests.browser.helpers import assert_no_errors, heading, open_page, save_screenshot, wait_for_app

# Where cell marker `index` (trace 1 of charts.clickable_confusion) is drawn on the page.
CELL = """(el, index) => {
    const data = el._fullData[1], layout = el._fullLayout, box = el.getBoundingClientRect();
    return {x: box.left + layout.xaxis._offset + layout.xaxis.d2p(data.x[index]),
            y: box.top + layout.yaxis._offset + layout.yaxis.d2p(data.y[index])};
}"""


def click_cell(page, cell: confusion.Cell, answer: str) -> None:
    """Click inside the cell, off its centre (a user rarely hits the middle), as a user would, until the
    page shows `answer`. A click that lands while plotly redraws the chart after a rerun can be lost (the
    user would click again, a known glitch): up to three more tries are allowed, each reported."""
    for attempt in range(4):
        wait_for_app(page)  # the chart is drawn anew after each rerun: click the one that stays
        chart = page.locator(".st-key-results-confusion .js-plotly-plot").first
        chart.scroll_into_view_if_needed()
        point = chart.evaluate(CELL, cell.index)
        page.mouse.move(point["x"] + 6, point["y"] - 5)
        # plotly selects the point under its hover label: wait for the label to name this cell, then click
        true, predicted = (f"{CLASSES[k].char} {CLASSES[k].romaji}" for k in cell)
        chart.locator(".hoverlayer .hovertext").filter(has_text=f"true {true}").filter(
            has_text=f"predicted {predicted}").wait_for()
        page.mouse.click(point["x"] + 6, point["y"] - 5)
        wait_for_app(page)
        try:
            page.get_by_text(answer).wait_for(timeout=15_000)
            time.sleep(1.5)  # a lost click can also show its answer, then lose it on the next rerun
            wait_for_app(page)
            if page.get_by_text(answer).count():
                return
        except PlaywrightTimeout:
            pass
        print(f"click {attempt + 1} on cell {cell.words} was lost; clicking again")
    page.get_by_text(answer).wait_for(timeout=1_000)


@pytest.mark.browser
def test_a_clicked_cell_shows_its_images_and_one_opens_in_the_layer_visualizer(page, app_server, kmnist_data):
    open_page(page, app_server, "compare")
    page.get_by_role("heading", name=re.compile("Compare runs$")).wait_for()
    page.locator(".st-key-compare_curves .js-plotly-plot").wait_for()
    page.get_by_text("Shared by all:").wait_for()
    caption = page.get_by_text(re.compile(r"^\S+ on the 2,000 test images of ")).inner_text()
    name = caption.split(" on the ")[0]

    # The server's predictions, made again here: the cells to click and what they must hold.
    entry = next(e for e in store.list_models(app_server["models"]) if e.name == name)
    classifier = inference.load_classifier(entry.path)
    predicted = classifier.probabilities(to_model_input(kmnist_data.x_test)).argmax(axis=1)
    counts = confusion.matrix(kmnist_data.y_test, predicted)
    mistakes = sorted((c for c in confusion.CELLS if c.true != c.predicted),
                      key=lambda c: counts[c.true][c.predicted])
    empty, common = mistakes[0], mistakes[-1]
    assert counts[empty.true][empty.predicted] == 0 < counts[common.true][common.predicted]

    click_cell(page, empty, f"Empty cell ({empty.words})")

    members = confusion.members(kmnist_data.y_test, predicted, common)
    click_cell(page, common, f"{len(members):,} test images, {common.words}")
    expected = [f"#{i}" for i in members[:MAX_SHOWN]]
    page.locator("[data-testid='stImageCaption']").nth(len(expected) - 1).wait_for()
    assert page.locator("[data-testid='stImageCaption']").all_inner_texts() == expected
    assert page.locator("[data-testid='stImage'] img").count() == len(expected)
    assert_no_errors(page)
    save_screenshot(page, "compare-confusion-cell")

    page.get_by_role("button", name=re.compile("Open in the Layer visualizer")).click()
    page.get_by_role("heading", name=heading(LAYERS), exact=True).wait_for()
    wait_for_app(page)
    assert page.get_by_role("radio", name="Picked test image").is_checked()
    position = int(members[0])
    page.get_by_text(f"test image #{position}, {common.words} by {name}").wait_for()
    assert page.url.rstrip("/").endswith("/layers")
    assert_no_errors(page)
