"""Training page in the browser: start a small run, watch it live, leave and come back, Stop it."""

import re
import uuid

import pytest

from kmnist.ui.navigation import SKETCH, TRAINING
from tests.browser.helpers import (
    TAB_LIMIT,
    assert_no_errors,
    heading,
    open_page,
    save_screenshot,
    tab_presses_to,
    wait_for_app,
)

CURVES = ".st-key-training-curves"
EPOCHS = 40  # about a second each: time to watch, leave and come back, then Stop well before the end
MIDDLE = "|".join(str(epoch) for epoch in range(2, EPOCHS - 1))  # any epoch after the first, before the end
COUNT_JS = """selector => Math.max(0, ...Array.from(document.querySelectorAll(selector + ' .js-plotly-plot'),
    plot => (plot._fullData || []).reduce((n, t) => n + ((t.x && t.x.length) || 0), 0)))"""


def chart_points(page) -> int:
    """Points on the live training chart (the fullest copy while Streamlit swaps an old one out)."""
    return page.evaluate(COUNT_JS, CURVES)


def wait_for_more_points(page, than: int) -> None:
    page.wait_for_function(f"selector => ({COUNT_JS})(selector) > {than}", arg=CURVES, timeout=120_000)


def fill_number(page, key: str, value) -> None:
    field = page.locator(f".st-key-{key} input")
    field.fill(str(value))
    field.press("Tab")  # commit without Enter (Enter would submit the form)


def start_training(page, name: str, epochs: int, batch_size: int, limit: int, augment: bool = True,
                   wait: bool = True, patience: int | None = None) -> None:
    """Fill the Training page's form as a user would and press Start (and, with `wait`, see it start)."""
    page.get_by_role("heading", name=heading(TRAINING), exact=True).wait_for()
    fill_number(page, "epochs", epochs)
    fill_number(page, "batch_size", batch_size)
    fill_number(page, "limit", limit)
    if patience is not None:
        fill_number(page, "patience", patience)
    if not augment:
        page.locator(".st-key-augment").get_by_text("Data augmentation").click()  # on by default
    page.get_by_text("More: architecture, optimizer, seed, names").click()
    page.locator(".st-key-model_name input").fill(name)
    page.get_by_role("button", name="Start training").click()
    if wait:
        page.get_by_text(re.compile(rf"^Training job {name}")).wait_for()


def progress_text(page) -> str:
    return page.locator("[data-testid='stProgress']").inner_text()


@pytest.mark.browser
def test_a_run_updates_live_survives_a_page_change_and_stops_keeping_its_model(page, app_server):
    name = f"browser-{uuid.uuid4().hex[:6]}"
    open_page(page, app_server, "training")
    start_training(page, name, epochs=EPOCHS, batch_size=16, limit=600, patience=EPOCHS)  # only Stop ends it
    page.get_by_text("autorenew training").wait_for()

    # The charts grow while it trains: at least two updates seen, with the progress text moving on.
    page.locator(f"{CURVES} .js-plotly-plot").first.wait_for()
    seen = [chart_points(page)]
    texts = [progress_text(page)]
    for _ in range(2):
        wait_for_more_points(page, seen[-1])
        seen.append(chart_points(page))
        texts.append(progress_text(page))
    assert seen[0] < seen[1] < seen[2], seen
    assert len(set(texts)) > 1, texts
    assert re.search(rf"epoch \d+/{EPOCHS} · batch \d+/\d+", texts[-1]), texts[-1]

    # What the network sees, as pictures: the validation strip and the first filters after an epoch.
    page.get_by_text(re.compile(r"^Validation strip after epoch \d+$")).wait_for(timeout=120_000)
    page.get_by_text(re.compile(r"^First conv layer: \d+ filters of 3×3, after epoch \d+$")).wait_for()
    assert page.locator("[data-testid='stImage'] img").count() >= 2
    save_screenshot(page, "training-live")

    # Leave for another page and come back: the run is still shown, still going.
    page.locator("[data-testid='stSidebarNav'] a", has_text="Sketch pad").click()
    page.get_by_role("heading", name=heading(SKETCH), exact=True).wait_for()
    page.locator("[data-testid='stSidebarNav'] a", has_text="Training").click()
    page.get_by_role("heading", name=heading(TRAINING), exact=True).wait_for()
    page.get_by_text(re.compile(rf"^Training job {name}.*autorenew training")).wait_for()
    page.locator(f"{CURVES} .js-plotly-plot").first.wait_for()
    assert chart_points(page) >= seen[-1]

    # Stop once the first epoch is done (an epoch takes seconds, so "after epoch 1" is any later epoch
    # but the last): the best epoch so far is kept as a model.
    # With the keyboard: from the top of the page, Stop is at most TAB_LIMIT Tab presses away.
    page.get_by_text(re.compile(rf"epoch ({MIDDLE})/{EPOCHS} · batch")).wait_for(timeout=180_000)
    presses, path = tab_presses_to(page, "Stop training")
    assert presses <= TAB_LIMIT, path
    page.keyboard.press("Enter")
    page.get_by_text(re.compile(rf"^Training job {name}.*stop_circle stopped")).wait_for(timeout=180_000)
    saved = page.get_by_text(re.compile(rf"^{name} saved to "))
    saved.wait_for()
    best, run = map(int, re.search(r"best epoch (\d+) of (\d+)", saved.inner_text()).groups())
    assert "status: stopped" in saved.inner_text() and 1 <= best <= run < EPOCHS, saved.inner_text()
    assert page.get_by_role("button", name="Stop training").count() == 0
    assert (app_server["models"] / f"{name}.keras").is_file()
    assert (app_server["models"] / f"{name}.card.json").is_file()
    wait_for_app(page)
    assert_no_errors(page)
