"""The Layer visualizer in a browser: a map clicked in the overview is enlarged with its filter, and the
worked convolution follows the chosen position and agrees with the model."""

import re

import pytest

from kmnist.ui.layers_view import WORKED
from tests.browser.helpers import assert_no_errors, open_page, save_screenshot, wait_for_app

# Where point `index` of trace `trace` lies on the page, and the customdata it carries (plotly's own axes).
POINT = """(el, [trace, index]) => {
    const data = el._fullData[trace], layout = el._fullLayout;
    const xa = layout[data.xaxis.replace('x', 'xaxis')], ya = layout[data.yaxis.replace('y', 'yaxis')];
    const box = el.getBoundingClientRect();
    return {x: box.left + xa._offset + xa.d2p(data.x[index]), y: box.top + ya._offset + ya.d2p(data.y[index]),
            custom: Array.from(data.customdata[index], Number)};
}"""


def click_point(page, chart, trace: int, index: int) -> list[int]:
    """Click where point `index` of `trace` in `chart` is drawn, as a user would; returns its customdata."""
    chart.scroll_into_view_if_needed()
    point = chart.locator(".js-plotly-plot").first.evaluate(POINT, [trace, index])
    page.mouse.move(point["x"], point["y"])
    page.mouse.click(point["x"], point["y"])
    return point["custom"]


def check_passes(page, row: int, col: int):
    check = page.locator("[data-testid='stAlertContentSuccess']").filter(has_text="Check: the model's own")
    check.filter(has_text=f"output at ({row}, {col}), map").wait_for()
    gap = float(re.search(r"difference ([\d.e+-]+)\)", check.inner_text()).group(1))
    assert gap <= 1e-5


@pytest.mark.browser
def test_overview_click_enlarges_a_map_and_the_convolution_follows_the_position(page, app_server):
    open_page(page, app_server, "layers")
    page.get_by_role("heading", name="The network at a glance").wait_for()
    overview = page.locator(".st-key-overview")
    overview.locator(".js-plotly-plot").wait_for()
    # conv3 is the overview's fifth column (input, conv1, conv2, pool1, conv3), each a heatmap and its click
    # targets: trace 9; its point 1 is the second strongest map.
    stage, chosen = click_point(page, overview, 9, 1)
    assert stage == 4
    big = page.locator(".st-key-overview_big")
    big.get_by_text(f"conv3 · Conv2D: map {chosen} (10×10)").wait_for()
    wait_for_app(page)
    page.get_by_text(re.compile(rf"Filter {chosen} of conv3 on the 4 of its 32 input maps")).wait_for()
    assert page.locator("[class*='st-key-overview_filter_'] .js-plotly-plot").count() == 4
    assert page.locator(".st-key-overview_layer input").input_value() == "conv3"  # the chooser follows

    # The worked convolution, in its own tab: step the column, then click a corner of the output map.
    page.get_by_role("tab", name=WORKED).click()
    column = page.locator(".st-key-conv_col input")
    column.scroll_into_view_if_needed()
    row = int(page.locator(".st-key-conv_row input").input_value())
    start = int(column.input_value())
    step = "StepDown" if start > 0 else "StepUp"
    page.locator(f".st-key-conv_col button[data-testid='stNumberInput{step}']").click()
    new = start - 1 if start > 0 else start + 1
    check_passes(page, row, new)
    wait_for_app(page)
    assert click_point(page, page.locator(".st-key-conv_map"), 1, 0) == [0, 0]
    check_passes(page, 0, 0)
    wait_for_app(page)
    assert page.locator(".st-key-conv_row input").input_value() == "0"
    assert page.locator(".st-key-conv_col input").input_value() == "0"
    assert_no_errors(page)

    save_screenshot(page, "layers-convolution")
