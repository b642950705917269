"""Compare runs in a browser: a click on a confusion-matrix cell shows that cell's test images, and one of
them opens in the Layer visualizer."""

import re
import time

import pytest
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

from kmnist.data.classes import CLASSES
from kmnist.data.pixels import to_model_input
from kmnist.evaluation import confusion
from kmnist.registry import inference, store
from kmnist.ui.comparison_view import MISTAKES
from kmnist.ui.confusion_view import MAX_SHOWN
from kmnist.ui.navigation import LAYERS
from tests.browser.helpers import (
    TIMEOUT_MS,
    assert_no_errors,
    heading,
    open_page,
    open_tab,
    save_screenshot,
    wait_for_app,
)

# Where cell marker `index` (trace 1 of charts.clickable_confusion) is drawn on the page.
CELL = """(el, index) => {
    const data = el._fullData[1], layout = el._fullLayout, box = el.getBoundingClientRect();
    return {x: box.left + layout.xaxis._offset + layout.xaxis.d2p(data.x[index]),
            y: box.top + layout.yaxis._offset + layout.yaxis.d2p(data.y[index])};
}"""


class Reruns:
    """The page's script runs, read off its websocket: each run it asks for (a BackMsg rerun_script, e.g.
    after a chart click) and whether the last one asked for has finished (ForwardMsg script_finished).
    The DOM's script state is no signal here: a quick run may never show as running."""

    def __init__(self, page):
        self.asked, self.finished = 0, True
        page.on("websocket", lambda ws: (ws.on("framesent", self._sent), ws.on("framereceived", self._got)))

    def _sent(self, payload) -> None:
        if isinstance(payload, bytes) and BackMsg.FromString(payload).WhichOneof("type") == "rerun_script":
            self.asked, self.finished = self.asked + 1, False

    def _got(self, payload) -> None:
        message = ForwardMsg.FromString(payload) if isinstance(payload, bytes) else None
        if message and message.WhichOneof("type") == "script_finished":
            self.finished = self.finished or message.script_finished == ForwardMsg.FINISHED_SUCCESSFULLY

    def wait_after(self, page, asked_before: int, timeout: float = TIMEOUT_MS / 1000) -> None:
        """Wait until a run asked for after `asked_before` runs has finished and the page has drawn it."""
        deadline = time.monotonic() + timeout
        while not (self.asked > asked_before and self.finished):
            lost = f"a lost click: no new run, or it did not end ({self.asked} runs, {asked_before} before)"
            assert time.monotonic() < deadline, lost
            page.wait_for_timeout(50)  # lets Playwright deliver the websocket frames
        wait_for_app(page)
        page.evaluate("() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))")


def click_cell(page, reruns: Reruns, cell: confusion.Cell) -> None:
    """Click inside the cell, off its centre (a user rarely hits the middle), once, and wait until the
    script run that click asks for has finished. plotly.js selects the point of its last hover, not the
    one under the click (kmnist.confusion.kept_pick), so the click waits, as a user does, for the hover
    label to name the cell."""
    wait_for_app(page)
    chart = page.locator(".st-key-results-confusion .js-plotly-plot").first
    chart.scroll_into_view_if_needed()
    point = chart.evaluate(CELL, cell.index)
    page.mouse.move(point["x"] + 6, point["y"] - 5)
    true, predicted = (CLASSES[k].name for k in cell)
    chart.locator(".hoverlayer .hovertext").filter(has_text=f"true {true}").filter(
        has_text=f"predicted {predicted}").wait_for()
    asked = reruns.asked
    page.mouse.click(point["x"] + 6, point["y"] - 5)
    reruns.wait_after(page, asked)


def assert_shows(page, cell: confusion.Cell, members) -> None:
    """The page shows `cell`'s test images (the first MAX_SHOWN of `members`), captioned by position."""
    noun = "test image" if len(members) == 1 else "test images"
    assert page.get_by_text(f"{len(members):,} {noun}, {cell.words}").count()
    expected = [f"#{i}" for i in members[:MAX_SHOWN]]
    page.locator("[data-testid='stImageCaption']").nth(len(expected) - 1).wait_for()  # drawn as they load
    assert page.locator("[data-testid='stImageCaption']").all_inner_texts() == expected
    assert page.locator("[data-testid='stImage'] img").count() == len(expected)


@pytest.mark.browser
def test_a_clicked_cell_shows_its_images_and_one_opens_in_the_layer_visualizer(page, app_server, kmnist_data):
    reruns = Reruns(page)
    open_page(page, app_server, "compare")
    page.get_by_role("heading", name=re.compile("Compare runs$")).wait_for()
    page.locator(".st-key-compare_curves .js-plotly-plot").wait_for()
    page.get_by_text("Shared by all:").wait_for()
    open_tab(page, MISTAKES)
    right = re.compile(r"^\S+: [\d.]+% right on the 2,000 official test images\b")
    caption = page.get_by_text(right).inner_text()
    name = caption.split(":")[0]

    # The server's predictions, made again here: the cells to click and what they must hold.
    entry = next(e for e in store.list_models(app_server["models"]) if e.name == name)
    classifier = inference.load_classifier(entry.path)
    predicted = classifier.probabilities(to_model_input(kmnist_data.x_test)).argmax(axis=1)
    counts = confusion.matrix(kmnist_data.y_test, predicted)
    mistakes = sorted((c for c in confusion.CELLS if c.true != c.predicted),
                      key=lambda c: counts[c.true][c.predicted])
    empty, common = mistakes[0], mistakes[-1]
    assert counts[empty.true][empty.predicted] == 0 < counts[common.true][common.predicted]

    click_cell(page, reruns, empty)
    assert page.get_by_text(f"Empty cell ({empty.words})").count()
    # Three different cells in a row, each clicked once, then the last one again: it stays shown. The clicks
    # come faster than plotly's double-click delay (confusion_view.CHART_CONFIG keeps them single clicks).
    second, diagonal = mistakes[-2], confusion.Cell(common.true, common.true)
    assert counts[second.true][second.predicted] > 0
    for cell in (diagonal, second, common, common):
        click_cell(page, reruns, cell)
        assert_shows(page, cell, confusion.members(kmnist_data.y_test, predicted, cell))
    members = confusion.members(kmnist_data.y_test, predicted, common)
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
