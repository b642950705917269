"""Which image or cell a Plotly click event names (the chart point's customdata)."""

from __future__ import annotations

from collections.abc import Sequence


def selected_index(points: Sequence[dict]) -> int | None:
    """The data set position of the first selected point of a projection plot (its customdata[0])."""
    for point in points or ():
        custom = point.get("customdata")
        if custom is not None and len(custom):
            return int(custom[0])
    return None


def clicked_cell(points: list[dict]) -> tuple[int, int] | None:
    """The two numbers a click on a clickable chart (charts.click_targets) carries in its customdata,
    e.g. (column, map) in the overview or (row, col) of a map; None when nothing is selected."""
    for point in points or ():
        custom = point.get("customdata")
        if custom is not None and len(custom) >= 2:
            return int(custom[0]), int(custom[1])
    return None
