"""Dataset explorer and pooling comparison, as a user sees them in the browser."""

import re

import pytest

from tests.browser.helpers import assert_no_errors, open_page, plotly_points, wait_for_app


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
    poolings = {table.locator(f"[data-testid='glide-cell-1-{row}']").text_content() for row in (0, 1)}
    assert models == {"studio-max", "studio-avg"} and poolings == {"max", "average"}
    for row in (0, 1):
        accuracy = float(table.locator(f"[data-testid='glide-cell-2-{row}']").text_content())
        assert 0.1 < accuracy <= 1.0
    for key in ("map", "max_map", "avg_map"):
        assert plotly_points(page.locator(f".st-key-{key}")) > 0
    assert_no_errors(page)
