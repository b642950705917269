"""Every page answers fast (issue 20): on a fresh server, each page's first visit against Home's, then
second visits, timed to the app's script finishing."""

import re
import time

import pytest

from kmnist.ui.dataset_sections import GALLERY, MAPS
from kmnist.ui.navigation import COMPARE, DATASET, HOME, LAYERS, POOLING, SKETCH, TRAINING
from tests.browser.conftest import keep_evidence
from tests.browser.helpers import (
    KERAS_LOADING,
    TIMEOUT_MS,
    assert_no_errors,
    heading,
    open_tab,
    record_timing,
    wait_for_app,
)

PAGES = {"": HOME, "dataset": DATASET, "training": TRAINING, "compare": COMPARE, "layers": LAYERS,
         "sketch": SKETCH, "pooling": POOLING}
FIRST_BEYOND_HOME_S = 2.0  # a page's first visit may take this much longer than Home's, no more
SECOND_VISIT_S = 1.0       # a second visit (the person comes back to the page) takes less than this
MAP_CHARTS = (".st-key-projection_PCA_train .js-plotly-plot", ".st-key-features_PCA_train .js-plotly-plot")


def first_visit(page, server, path: str) -> float:
    """Open /path as a new visitor does (a new session), timed from the request to the script finishing."""
    started = time.monotonic()
    page.goto(f"{server['url']}/{path}")
    wait_for_app(page)
    seconds = time.monotonic() - started
    page.get_by_role("heading", name=heading(PAGES[path]), exact=True).wait_for()
    return seconds


def second_visit(page, path: str) -> float:
    """Come back to /path through the sidebar, timed from the click to the page's script finishing."""
    started = time.monotonic()
    page.locator("[data-testid='stSidebarNav'] a").filter(has_text=PAGES[path].title).first.click()
    page.get_by_role("heading", name=heading(PAGES[path]), exact=True).wait_for()
    wait_for_app(page)
    return time.monotonic() - started


def layers_visit(page, server) -> None:
    """The Layer visualizer right after Home on a fresh server, before Keras is imported in a pause: its
    prediction at once (from the model's ONNX twin), every section once Keras is there."""
    started = time.monotonic()
    page.goto(f"{server['url']}/layers")
    page.get_by_text(re.compile(r"^Prediction: ")).wait_for()
    predicted = time.monotonic() - started
    architecture = page.get_by_role("heading", name="Architecture")
    page.get_by_text(KERAS_LOADING).or_(architecture).first.wait_for()  # one or the other comes next
    loading = page.get_by_text(KERAS_LOADING).count()
    architecture.wait_for()
    filled = time.monotonic() - started
    record_timing(f"fresh server, Layer visualizer right after Home: prediction shown after "
                  f"{predicted:.2f} s, every section after {filled:.2f} s (TensorFlow was "
                  f"{'loading when the prediction was shown' if loading else 'already loaded'})")
    assert_no_errors(page)


@pytest.fixture
def fresh_page(chromium, fresh_server, request):
    """A page of its own on the fresh server (its screenshot and the server log kept if the test fails)."""
    context = chromium.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    yield page
    keep_evidence(request, page, fresh_server)
    context.close()


@pytest.mark.browser
def test_the_dataset_explorer_is_usable_at_once_and_its_maps_come_from_the_background(fresh_page,
                                                                                     fresh_server):
    """Before, a fresh server's first visit computed the maps in the page's own run (11 s)."""
    page = fresh_page
    home = first_visit(page, fresh_server, "")
    layers_visit(page, fresh_server)
    dataset = first_visit(page, fresh_server, "dataset")
    visited = time.monotonic()
    page.get_by_role("tab", name=GALLERY, selected=True).wait_for()  # usable at once: the gallery is there
    open_tab(page, MAPS)  # the maps have been computing since the first visit
    assert page.locator("[class*='st-key-map_progress_'], .st-key-projection_PCA_train").count()
    for chart in MAP_CHARTS:
        page.locator(chart).wait_for()
    record_timing(f"fresh server, first visits: Home {home:.2f} s, Dataset explorer {dataset:.2f} s; its "
                  f"maps (computed in the background) drawn {time.monotonic() - visited:.1f} s later")
    assert_no_errors(page)


@pytest.mark.benchmark  # a speed measurement: run alone (pytest -m benchmark -n 0)
@pytest.mark.browser
def test_every_page_answers_fast_on_a_fresh_server(fresh_page, fresh_server):
    """Prints each page's first visit against Home's and each second visit, with the goals (a page's first
    visit at most FIRST_BEYOND_HOME_S longer than Home's, a second visit under SECOND_VISIT_S): figures,
    not assertions, as speed is checked on a quiet machine."""
    page, first = fresh_page, {}
    for path in PAGES:
        started = time.monotonic()
        first[path] = first_visit(page, fresh_server, path)
        if path == "layers":  # its prediction is there; every section once Keras is imported
            page.get_by_role("heading", name="Architecture").wait_for()
            layers_filled = time.monotonic() - started
        assert_no_errors(page)
    page.goto(f"{fresh_server['url']}/dataset")
    open_tab(page, MAPS)
    for chart in MAP_CHARTS:
        page.locator(chart).wait_for()
    wait_for_app(page)
    second = {}
    for path in PAGES:  # from the Dataset explorer: Home first
        second[path] = second_visit(page, path)
        assert_no_errors(page)
    for path in PAGES:
        over = first[path] - first[""]
        met = "met" if over <= FIRST_BEYOND_HOME_S else "NOT met"
        record_timing(f"/{path or 'home'}: first visit {first[path]:.2f} s (Home + {over:.2f} s, goal "
                      f"+{FIRST_BEYOND_HOME_S:.0f} s: {met}), "
                      f"second visit {second[path]:.2f} s (goal < {SECOND_VISIT_S:.0f} s: "
                      f"{'met' if second[path] < SECOND_VISIT_S else 'NOT met'})"
                      + (f"; every section after {layers_filled:.2f} s" if path == "layers" else ""))
