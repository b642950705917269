"""Dataset explorer and pooling comparison, as a user sees them in the browser."""

import re
import time

import numpy as np
import pytest

from tests.browser.helpers import (
    assert_no_errors,
    open_page,
    plotly_points,
    record_timing,
    save_screenshot,
    wait_for_app,
)

# Every point of a plotly chart: its position on the screen (CSS pixels) and its customdata.
POINTS_ON_SCREEN = """el => {
    const box = el.getBoundingClientRect(), xa = el._fullLayout.xaxis, ya = el._fullLayout.yaxis;
    return el._fullData.flatMap(t => Array.from(t.x, (x, i) => [
        box.left + xa._offset + xa.l2p(x), box.top + ya._offset + ya.l2p(t.y[i]), t.customdata[i][0]]));
}"""


@pytest.mark.browser
def test_choosing_one_class_shows_only_that_class_and_the_map_has_every_image(page, app_server):
    open_page(page, app_server, "dataset")
    caption = page.get_by_text(re.compile(r"^train: images 1–48 of "))
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
    shown = page.get_by_text(re.compile(r"^train: images 1–48 of [\d,]+ in class 6 ま \(ma\) "))
    shown.wait_for()
    page.locator("h1").first.click()  # closes the drop-down list
    wait_for_app(page)
    total = int(re.search(r"of ([\d,]+) in", shown.inner_text()).group(1).replace(",", ""))
    assert 0 < total < 7000  # one class of the 7,000 training images

    page.get_by_text("Labels of the tiles on this page").click()
    labels = page.get_by_text(re.compile(r"^#\d+ ")).inner_text()
    tiles = re.findall(r"#\d+ (\S) \((\w+)\)", labels)
    assert len(tiles) == 48
    assert set(tiles) == {("ま", "ma")}, f"other classes shown: {set(tiles)}"

    projection = page.locator(".st-key-projection_PCA_train")
    projection.scroll_into_view_if_needed()
    assert projection.locator(".js-plotly-plot").is_visible()
    assert plotly_points(projection) == 7000  # every training image is a point
    box = projection.bounding_box()
    assert box["width"] > 300 and box["height"] > 300
    assert_no_errors(page)


@pytest.mark.browser
def test_pooling_page_compares_both_models(page, app_server):
    open_page(page, app_server, "pooling")
    page.get_by_role("heading", name="2 · Two models that differ only in pooling").wait_for()
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
            for col in range(3)] == ["pooling", "max", "avg"]  # the twins differ in pooling alone
    for key in ("map", "max_map", "avg_map"):
        assert plotly_points(page.locator(f".st-key-{key}")) > 0
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
    from kmnist.classes import CLASSES

    open_page(page, app_server, "dataset")
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
