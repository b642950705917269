"""Every page opens in a real browser with its title, its main controls and no error."""

import re
import time
from urllib.parse import urlsplit

import pytest

from kmnist.ui.comparison_view import MISTAKES, SIDE_BY_SIDE
from kmnist.ui.dataset_sections import EXAMPLES, GALLERY, MAPS, STATISTICS
from kmnist.ui.layers_view import VIEWS as LAYER_VIEWS
from kmnist.ui.navigation import COMPARE, DATASET, HOME, LAYERS, POOLING, SKETCH, TRAINING
from kmnist.ui.pooling_state import ARITHMETIC, PAIR
from tests.browser import accessibility
from tests.browser.drawing import draw, pad, pad_canvas, wait_until_pad_ready
from tests.browser.helpers import (
    FOCUSED_JS,
    SETTLED_JS,
    TAB_LIMIT,
    assert_no_errors,
    heading,
    open_page,
    open_tab,
    record_timing,
    save_screenshot,
    tab_presses_to,
    too_wide,
    wait_for_app,
    wait_for_keras_views,
)

NAV_TITLES = ["Home", "Dataset explorer", "Training", "Compare runs", "Layer visualizer", "Sketch pad",
              "Max vs average pooling"]

# url path, page title (h1), what a user must see: (role, name) pairs or CSS selectors
PAGES = {
    "": (heading(HOME), [("heading", "Where to go"), ("heading", "Data"), ("heading", "Trained models"),
                              ("link", "Dataset explorer"), ("link", "Sketch pad")]),
    "dataset": (heading(DATASET), [("radiogroup", "Split"), ("combobox", "Classes"),
                                       ".st-key-gallery_next button", ("tab", MAPS)]),
    "training": (heading(TRAINING), [("spinbutton", "Epochs"), ("spinbutton", "Batch size"),
                                ".st-key-dropout", ".st-key-start button"]),
    "compare": (heading(COMPARE), [".st-key-compare_models",
                                               ".st-key-compare_curves .js-plotly-plot",
                                               ("tab", MISTAKES)]),
    "layers": (heading(LAYERS), [("combobox", "Model"), ("radiogroup", "Input"),
                                      ("tab", "Feature maps"),
                                      "[class*='st-key-maps_'] img"]),
    "sketch": (heading(SKETCH), [".st-key-sketch_where",
                                "iframe[title='kmnist.ui.sketch_pad.component.sketch_pad']"]),
    "pooling": (heading(POOLING), [
        ".st-key-window_row",
        ("button", "Jump to the window where max and average differ most"),
        ".st-key-avg_map .js-plotly-plot", "[data-testid='stDataFrame']", ("tab", PAIR)]),
}


def nav_links(page):
    return page.locator("[data-testid='stSidebarNav'] a")


@pytest.mark.browser
@pytest.mark.parametrize("path", list(PAGES), ids=lambda p: p or "home")
def test_page_loads_with_title_controls_and_no_error(page, app_server, path):
    title, controls = PAGES[path]
    outside = []  # every request of the page, its frames and workers to another host: classrooms are offline
    page.on("request", lambda request: outside.append(request.url)
            if urlsplit(request.url).hostname not in (None, "127.0.0.1", "localhost") else None)
    open_page(page, app_server, path)
    page.get_by_role("heading", name=title, exact=True).wait_for()
    for control in controls:
        if isinstance(control, str):
            target = page.locator(control).first
        else:
            role, name = control
            target = page.get_by_role(role, name=name, exact=True).first
        target.scroll_into_view_if_needed()
        assert target.is_visible(), f"{control} is not visible on /{path}"
    wait_for_app(page)
    assert_no_errors(page)
    if path == "sketch":
        wait_until_pad_ready(page)  # the in-page pad has loaded its model: shown ready in the screenshot
    save_screenshot(page, f"desktop/{path or 'home'}")  # kept as a CI artifact (phone, tablet: test_devices)
    assert not too_wide(page, path)
    found = accessibility.audit(page)  # axe-core, on the page as it first shows
    record_timing(f"axe-core on /{path}: ours {accessibility.counts(found['ours'])}, "
                  f"Streamlit's own {accessibility.counts(found['streamlit'])}")
    assert not accessibility.blocking(found["ours"]), "\n".join(accessibility.blocking(found["ours"]))
    assert page.title() == "KMNIST Studio"  # app.py's page config, so the page ran through app.py
    assert [text.split("\n")[-1] for text in nav_links(page).all_inner_texts()] == NAV_TITLES
    assert not outside, f"/{path} fetched from outside the server: {outside}"


@pytest.mark.browser
def test_sidebar_navigation_reaches_every_page(page, app_server):
    open_page(page, app_server)
    for path, (title, _) in list(PAGES.items())[1:]:
        nav_title = NAV_TITLES[list(PAGES).index(path)]
        nav_links(page).filter(has_text=nav_title).click()
        page.get_by_role("heading", name=title, exact=True).wait_for()
        wait_for_app(page)
        assert page.url.rstrip("/").endswith(f"/{path}")
        assert_no_errors(page)


@pytest.mark.browser
def test_first_request_to_a_deep_url_gets_the_app_navigation(new_page, fresh_server):
    """A fresh server's very first request is straight to /sketch (a bookmark, a shared link).

    Streamlit would run pages/sketch.py alone (old multipage mode, because pages/ exists): no page
    config, a navigation listing app.py and file names. The page must come up as part of the app.
    """
    page = new_page(fresh_server)
    open_page(page, fresh_server, "sketch")
    page.get_by_role("heading", name=heading(SKETCH), exact=True).wait_for()
    pad_canvas(page).wait_for()
    wait_for_app(page)
    record_timing(f"server start -> first page rendered (fresh server, first request to /sketch): "
                  f"{time.monotonic() - fresh_server['started']:.1f} s")
    assert page.title() == "KMNIST Studio"
    assert [text.split("\n")[-1] for text in nav_links(page).all_inner_texts()] == NAV_TITLES
    assert not page.get_by_text(re.compile(r"^app$")).count()  # no "app" page from old multipage mode
    assert page.url.rstrip("/").endswith("/sketch")
    assert_no_errors(page)


@pytest.mark.browser
def test_start_clear_and_look_inside_are_a_few_tab_presses_from_the_top(page, app_server):
    """Keyboard users (Stop: test_training.py). Look inside is offered once something is drawn, right
    after Clear."""
    open_page(page, app_server, "training")
    presses, path = tab_presses_to(page, "Start training")
    assert presses <= TAB_LIMIT, path
    open_page(page, app_server, "sketch")
    wait_until_pad_ready(page)
    presses, path = tab_presses_to(page, "Clear the canvas")
    assert presses + 1 <= TAB_LIMIT, path
    draw(page, [[(60.0, 60.0), (220.0, 200.0)]])
    pad(page).get_by_role("button", name="Clear the canvas").focus()
    page.keyboard.press("Tab")
    assert page.evaluate(FOCUSED_JS) == "Look inside"
    page.keyboard.press("Enter")  # and it works from the keyboard
    page.get_by_role("heading", name=heading(LAYERS), exact=True).wait_for()


# The pages that draw one section (tab) at a time: each section is only on the page while its tab is open,
# so the audit opens each in turn.
SECTIONS = {"dataset": [GALLERY, EXAMPLES, STATISTICS, MAPS], "compare": [SIDE_BY_SIDE, MISTAKES],
            "layers": list(LAYER_VIEWS), "pooling": [ARITHMETIC, PAIR]}


@pytest.mark.browser
@pytest.mark.parametrize("path", list(SECTIONS))
def test_every_section_passes_the_accessibility_audit(page, app_server, path):
    open_page(page, app_server, path)
    for section in SECTIONS[path]:
        open_tab(page, section)
        wait_for_keras_views(page)
        if section == MAPS:  # computed in the background: the page reruns when they are ready
            for key in ("projection_PCA_train", "features_PCA_train"):
                page.locator(f".st-key-{key} .js-plotly-plot").wait_for()
            page.wait_for_function(SETTLED_JS)  # nothing dimmed by a run still going
        found = accessibility.audit(page)
        record_timing(f"axe-core on /{path}, section {section!r}: ours {accessibility.counts(found['ours'])}")
        assert not accessibility.blocking(found["ours"]), (section, accessibility.blocking(found["ours"]))
        assert_no_errors(page)
