"""Dataset explorer and pooling comparison, as a user sees them in the browser."""

import re
import time

import numpy as np
import pytest

from kmnist.ui.dataset_sections import MAPS
from kmnist.ui.pooling_state import PAIR
from tests.browser.helpers import (
    assert_no_errors,
    open_page,
    open_tab,
    plotly_points,
    record_timing,
    save_screenshot,
    wait_for_app,
)
from tests.conftest import ROOT

# Every point of a plotly chart: its position on the screen (CSS pixels) and its customdata.
POINTS_ON_SCREEN = """el => {
    const box = el.getBoundingClientRect(), xa = el._fullLayout.xaxis, ya = el._fullLayout.yaxis;
    return el._fullData.flatMap(t => Array.from(t.x, (x, i) => [
        box.left + xa._offset + xa.l2p(x), box.top + ya._offset + ya.l2p(t.y[i]), t.customdata[i][0]]));
}"""


@pytest.mark.browser
def test_choosing_one_class_shows_only_that_class_and_the_map_has_every_image(page, app_server):
    open_page(page, app_server, "dataset")
    caption = page.get_by_text(re.compile(r"^train: 48 of [\d,]+ images "))
    assert "in classes 0 お (o), 1 き (ki)" in caption.inner_text()

    classes = page.locator(".st-key-gallery_classes")
    classes.get_by_role("button", name="Clear all").click()
    page.get_by_text("Pick at least one class to see its images.").wait_for()
    wait_for_app(page)
    box = classes.get_by_role("combobox")
    box.click()
    box.press_sequentially("(ma)")  # a user typing to filter the list, then picking with Enter
    page.get_by_role("option", name="6 ま (ma)").wait_for()
    box.press("Enter")
    shown = page.get_by_text(re.compile(r"^train: 48 of [\d,]+ images in class 6 ま \(ma\) "))
    shown.wait_for()
    page.locator("h1").first.click()  # closes the drop-down list
    wait_for_app(page)
    total = int(re.search(r"of ([\d,]+) images in", shown.inner_text()).group(1).replace(",", ""))
    assert 0 < total < 7000  # one class of the 7,000 training images

    page.get_by_text("Labels of the tiles on this page").click()
    labels = page.get_by_text(re.compile(r"^#\d+ ")).inner_text()
    tiles = re.findall(r"#\d+ (\S) \((\w+)\)", labels)
    assert len(tiles) == 48
    assert set(tiles) == {("ま", "ma")}, f"other classes shown: {set(tiles)}"

    open_tab(page, MAPS)
    projection = page.locator(".st-key-projection_PCA_train")
    projection.locator(".js-plotly-plot").wait_for()  # the map comes from the background, when ready
    projection.scroll_into_view_if_needed()
    assert projection.locator(".js-plotly-plot").is_visible()
    assert plotly_points(projection) == 7000  # every training image is a point
    box = projection.bounding_box()
    assert box["width"] > 300 and box["height"] > 300
    assert_no_errors(page)


@pytest.mark.browser
def test_pooling_page_compares_both_models(page, app_server):
    open_page(page, app_server, "pooling")
    for key in ("map", "max_map", "avg_map"):  # part 1, open first
        assert plotly_points(page.locator(f".st-key-{key}")) > 0
    page.get_by_role("tab", name=PAIR).click()
    curves = page.locator(".st-key-pair_curves")
    curves.scroll_into_view_if_needed()
    names = curves.locator(".js-plotly-plot").evaluate("el => el._fullData.map(t => t.name)")
    assert any("studio-max" in n for n in names) and any("studio-avg" in n for n in names), names
    assert plotly_points(curves) > 0

    table = page.locator("[data-testid='stDataFrame']").filter(
        has=page.locator("th", has_text="test accuracy"))
    table.scroll_into_view_if_needed()
    cell = table.locator("[data-testid='glide-cell-0-0']")
    cell.wait_for(state="attached")
    models = {table.locator(f"[data-testid='glide-cell-0-{row}']").text_content() for row in (0, 1)}
    assert models == {"studio-max", "studio-avg"}
    for row in (0, 1):  # the Compare runs view: accuracy as a percentage with one decimal
        accuracy = table.locator(f"[data-testid='glide-cell-1-{row}']").text_content()
        assert re.fullmatch(r"\d+\.\d%", accuracy) and 10 < float(accuracy[:-1]) <= 100
    settings = page.locator("[data-testid='stDataFrame']").filter(has=page.locator("th", has_text="setting"))
    assert [settings.locator(f"[data-testid='glide-cell-{col}-0']").text_content()
            for col in range(3)] == ["pooling", "max", "avg"]  # the pair differs in pooling alone
    assert_no_errors(page)


def loneliest_point(points) -> tuple[float, float, int]:
    """The point farthest from its nearest neighbour (so a click there can only pick it), away from the
    plot's edges: (x, y, image position)."""
    from scipy.spatial import cKDTree

    xy = np.array([p[:2] for p in points])
    inner = np.all((xy > np.percentile(xy, 5, axis=0)) & (xy < np.percentile(xy, 95, axis=0)), axis=1)
    nearest = cKDTree(xy).query(xy, k=2)[0][:, 1]  # [:, 0] is the point itself
    best = int(np.argmax(np.where(inner, nearest, -1)))
    return xy[best, 0], xy[best, 1], int(points[best][2])


@pytest.mark.browser
def test_learned_features_map_beside_the_pixel_map_shows_a_clicked_image(page, app_server, kmnist_data):
    from kmnist.data.classes import CLASSES

    open_page(page, app_server, "dataset")
    open_tab(page, MAPS)
    pixels, learned = page.locator(".st-key-projection_PCA_train"), page.locator(".st-key-features_PCA_train")
    learned.scroll_into_view_if_needed()
    learned.locator(".js-plotly-plot").wait_for()
    assert plotly_points(learned) == plotly_points(pixels) == 7000
    left, right = pixels.bounding_box(), learned.bounding_box()
    assert abs(left["y"] - right["y"]) < 5 and left["x"] + left["width"] <= right["x"]  # side by side
    page.get_by_text(re.compile(r"layer `?dense`? \(256 values each\)")).wait_for()

    x, y, position = loneliest_point(learned.locator(".js-plotly-plot").evaluate(POINTS_ON_SCREEN))
    started = time.monotonic()
    page.mouse.click(x, y)
    caption = page.get_by_text(f"train image #{position}, clicked in the learned map")
    caption.wait_for()
    wait_for_app(page)
    shown = time.monotonic() - started
    record_timing(f"Dataset explorer: click on a map point -> its image shown (maps cached): {shown:.2f} s")
    image = page.locator("[data-testid='stImage']").filter(has_text=f"#{position},").locator("img")
    assert image.evaluate("img => img.decode().then(() => img.naturalWidth)") == 28 * 8  # 8x enlarged
    kana = CLASSES[kmnist_data.y_train[position]]
    page.get_by_role("heading", name=f"{kana.char} ({kana.romaji})").wait_for()
    assert_no_errors(page)
    save_screenshot(page, "dataset-learned-features")


HOVER_FRAME = "iframe[title='kmnist.ui.map_hover.component.map_hover']"  # the hover thumbnail component
FLOAT = "#kmnist-map-hover-float"  # the small thumbnail it puts beside the pointer, in the page
RGBA = "c => Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data)"


def lonely_points(points, away_from=(), distance: float = 60) -> list[tuple[float, float, int]]:
    """Points far from their nearest neighbour (a pointer there can only hover them), loneliest first, away
    from the plot's edges and more than `distance` pixels from each (x, y) in `away_from`."""
    from scipy.spatial import cKDTree

    xy = np.array([p[:2] for p in points])
    inner = np.all((xy > np.percentile(xy, 5, axis=0)) & (xy < np.percentile(xy, 95, axis=0)), axis=1)
    for x, y in away_from:
        inner &= np.hypot(xy[:, 0] - x, xy[:, 1] - y) > distance
    nearest = cKDTree(xy).query(xy, k=2)[0][:, 1]
    order = [i for i in np.argsort(-nearest) if inner[i]]
    return [(xy[i, 0], xy[i, 1], int(points[i][2])) for i in order[:5]]


def shown_pixels(locator) -> np.ndarray:
    """The 28x28 grey image a thumbnail canvas shows (checked to be opaque grey)."""
    rgba = np.asarray(locator.evaluate(RGBA), "uint8").reshape(28, 28, 4)
    assert (rgba[..., 3] == 255).all(), "the thumbnail is not opaque"
    assert (rgba[..., 0] == rgba[..., 1]).all() and (rgba[..., 1] == rgba[..., 2]).all(), "not grey"
    return rgba[..., 0]


def hover_point(page, chart, hover, x, y, position) -> None:
    """Move the pointer onto a map point; check Plotly's own label names `position`, then wait for the
    component to show that image."""
    from playwright.sync_api import TimeoutError as Timeout

    page.mouse.move(x, y)
    label = chart.locator(".hoverlayer .hovertext")
    try:  # Plotly throttles hovers (50 ms): wait until its label names this point
        label.filter(has_text=re.compile(rf"image #{position}(?!\d)")).wait_for(timeout=10_000)
    except Timeout:
        pytest.fail(f"Plotly's label says {label.all_text_contents()}, not image #{position}")
    hover.wait_for_function("p => window.kmnistMapHover.shown?.position === p", arg=position)


@pytest.mark.browser
def test_hovering_a_map_point_shows_its_image_at_once_in_the_page(page, app_server, kmnist_data):
    from kmnist.data.classes import CLASSES

    sent, requests = [], []
    page.on("websocket", lambda socket: socket.on("framesent", lambda frame: sent.append(frame)))
    open_page(page, app_server, "dataset")
    open_tab(page, MAPS)
    pixels, learned = page.locator(".st-key-projection_PCA_train"), page.locator(".st-key-features_PCA_train")
    learned.scroll_into_view_if_needed()
    pixels.locator(".js-plotly-plot").wait_for()
    learned.locator(".js-plotly-plot").wait_for()
    frame = page.locator(HOVER_FRAME)
    frame.wait_for()
    hover = frame.element_handle().content_frame()
    hover.wait_for_function("() => window.kmnistMapHover?.attached.length === 2")
    attached = hover.evaluate("() => window.kmnistMapHover.attached")
    assert attached == ["projection_PCA_train", "features_PCA_train"]
    hover.get_by_text("Hover a point in a map").wait_for()
    assert not hover.locator("#thumb").is_visible()
    box, preview = frame.bounding_box(), page.get_by_role("heading", name="Selected image").bounding_box()
    assert box["y"] + box["height"] <= preview["y"] + 1 and abs(box["x"] - preview["x"]) < 5  # just above it

    wait_for_app(page)
    page.on("request", lambda request: requests.append(request.url))
    sent.clear()
    first = lonely_points(pixels.locator(".js-plotly-plot").evaluate(POINTS_ON_SCREEN))[0]
    second = lonely_points(pixels.locator(".js-plotly-plot").evaluate(POINTS_ON_SCREEN), [first[:2]])[0]
    caption = hover.get_by_test_id("map-hover-caption")
    for x, y, position in (first, second):
        hover_point(page, pixels, hover, x, y, position)
        np.testing.assert_array_equal(shown_pixels(hover.locator("#thumb")), kmnist_data.x_train[position])
        kana = CLASSES[kmnist_data.y_train[position]]
        assert caption.inner_text() == f"train image #{position} · {kana.char} ({kana.romaji}) · pixel map"
        assert hover.locator("#thumb").is_visible()
        assert not hover.get_by_text("Hover a point in a map").is_visible()
        float_box = page.locator(FLOAT).bounding_box()  # beside the pointer, showing the same image
        assert float_box and np.hypot(float_box["x"] + float_box["width"] / 2 - x,
                                      float_box["y"] + float_box["height"] / 2 - y) < 1.5 * float_box["width"]
        np.testing.assert_array_equal(shown_pixels(page.locator(FLOAT)), kmnist_data.x_train[position])
    assert not np.array_equal(kmnist_data.x_train[first[2]], kmnist_data.x_train[second[2]])

    x, y, position = lonely_points(learned.locator(".js-plotly-plot").evaluate(POINTS_ON_SCREEN))[0]
    hover_point(page, learned, hover, x, y, position)
    np.testing.assert_array_equal(shown_pixels(hover.locator("#thumb")), kmnist_data.x_train[position])
    assert caption.inner_text().startswith(f"train image #{position} · ") and caption.inner_text().endswith(
        " · learned map")
    x, y, position = first  # back to the first point: its sheet is at hand now
    hover_point(page, pixels, hover, x, y, position)
    np.testing.assert_array_equal(shown_pixels(hover.locator("#thumb")), kmnist_data.x_train[position])
    assert caption.inner_text().endswith(" · pixel map")

    shot = ROOT / "artifacts" / "browser" / "pages" / "dataset-hover.png"  # what the user sees, hovering
    shot.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shot))

    page.mouse.move(x, max(5, box["y"] - 150))  # off the maps (above them): the thumbnail goes
    hover.wait_for_function("() => window.kmnistMapHover.shown === null")
    hover.get_by_text("Hover a point in a map").wait_for()
    assert not hover.locator("#thumb").is_visible() and caption.inner_text() == ""
    assert page.locator(FLOAT).count() == 0
    assert not sent, f"hovering sent {len(sent)} websocket messages to the server"
    sprites = "/component/kmnist.ui.map_hover.component.map_hover/sprites/"
    assert all(sprites in url for url in requests), requests  # nothing but sprite pages
    assert requests and len(set(requests)) == len(requests)  # sprite pages, each loaded once when needed
    latencies, drawing = hover.evaluate("() => [kmnistMapHover.latencies, kmnistMapHover.drawing]")
    assert len(drawing) == 4 and drawing[-1]["atHand"]  # the first point's sheet was kept, not fetched again
    record_timing("Dataset explorer: pointer on a map point -> its thumbnail drawn in the page: "
                  + ", ".join(f"{ms:.1f} ms" for ms in latencies) + "; of which the component's own work: "
                  + ", ".join(f"{d['ms']:.1f} ms" + ("" if d["atHand"] else " (sheet fetched first)")
                              for d in drawing))

    page.locator(".st-key-split").get_by_text(re.compile(r"^test")).click()  # the maps are drawn anew
    wait_for_app(page)
    for key in ("projection_PCA_test", "features_PCA_test"):  # computed in the background for this split
        page.locator(f".st-key-{key} .js-plotly-plot").wait_for()
    wait_for_app(page)
    pixels = page.locator(".st-key-projection_PCA_test")
    pixels.scroll_into_view_if_needed()
    hover = page.locator(HOVER_FRAME).element_handle().content_frame()
    hover.wait_for_function("() => window.kmnistMapHover?.attached.join() === "
                            "'projection_PCA_test,features_PCA_test'")
    x, y, position = lonely_points(pixels.locator(".js-plotly-plot").evaluate(POINTS_ON_SCREEN))[0]
    hover_point(page, pixels, hover, x, y, position)
    np.testing.assert_array_equal(shown_pixels(hover.locator("#thumb")), kmnist_data.x_test[position])
    assert hover.get_by_test_id("map-hover-caption").inner_text().startswith(f"test image #{position} · ")
    assert_no_errors(page)
