"""The Layer visualizer's figures: feature maps, grids, the network at a glance, activations, Grad-CAM."""

from __future__ import annotations

import plotly.graph_objects as go

from kmnist.charts.style import ACCENT, CLASS_LABELS, click_targets, styled
from kmnist.data.classes import CLASSES
from kmnist.inspect.gradcam import HEAT


# -- pooling: a feature map with its values, a highlighted 2x2 window ------------------------------------
def feature_map(values, title: str, highlight: tuple[int, int, int] | None = None, show_values: bool = False,
                zrange: tuple[float, float] | None = None, height: int = 360, showscale: bool = True):
    """One feature map as a heatmap; `highlight` = (top row, left col, size) draws a box around cells."""
    import numpy as np

    values = np.asarray(values, dtype="float64")
    figure = go.Figure(go.Heatmap(
        z=values, colorscale="Viridis", zmin=zrange[0] if zrange else None,
        zmax=zrange[1] if zrange else None, text=np.round(values, 2) if show_values else None,
        texttemplate="%{text}" if show_values else None, colorbar=dict(thickness=10), showscale=showscale,
        hovertemplate="row %{y}, col %{x}<br>value %{z:.3f}<extra></extra>"))
    if highlight is not None:
        top, left, size = highlight
        figure.add_shape(type="rect", x0=left - 0.5, x1=left + size - 0.5, y0=top - 0.5, y1=top + size - 0.5,
                         line=dict(color="#ff2d55", width=3))
    figure.update_yaxes(autorange="reversed", scaleanchor="x", constrain="domain")
    figure.update_xaxes(constrain="domain")
    return styled(figure, title, height=height)


def grid_heatmap(grid, title: str, height: int = 320):
    """A tiled grid of feature maps (kmnist.inspection.feature_grid) as one heatmap, gaps blank."""
    figure = go.Figure(go.Heatmap(z=grid, colorscale="Viridis", showscale=False,
                                  hovertemplate="value %{z:.2f}<extra></extra>"))
    figure.update_xaxes(visible=False, constrain="domain")
    figure.update_yaxes(visible=False, autorange="reversed", scaleanchor="x")
    return styled(figure, title, height=height)


# -- layer visualizer and sketch pad: grids of maps, activations, class probabilities ---------------------
def map_grid_figure(grid, channels, title: str, colorscale: str = "Viridis", zmid: float | None = None,
                    height: int | None = None):
    """A feature_grid (one heatmap for all maps of a layer); hovering names the map under the cursor.

    `channels` is kmnist.inspection.grid_channels for the same layout (-1 in the gaps).
    """
    import numpy as np

    grid = np.asarray(grid, dtype="float64")
    figure = go.Figure(go.Heatmap(
        z=grid, customdata=np.asarray(channels), colorscale=colorscale, zmid=zmid, showscale=False,
        hovertemplate="map %{customdata}<br>value %{z:.2f}<extra></extra>"))
    figure.update_xaxes(visible=False, constrain="domain")
    figure.update_yaxes(visible=False, autorange="reversed", scaleanchor="x", constrain="domain")
    if height is None:
        height = int(min(620, max(160, 60 + 620 * grid.shape[0] / max(grid.shape[1], 1))))
    return styled(figure, title, height=height)


def activation_bars(values, title: str, height: int = 260):
    """The units of a dense layer as bars (index on x): which neurons fire for this image."""
    import numpy as np

    values = np.asarray(values, dtype="float64")
    figure = go.Figure(go.Bar(x=np.arange(len(values)), y=values, marker_color="#636efa",
                              hovertemplate="unit %{x}: %{y:.3f}<extra></extra>"))
    figure.update_xaxes(title_text="unit")
    figure.update_yaxes(title_text="activation")
    return styled(figure, title, height=height)


def probability_bars(probabilities, title: str = "Softmax output", highlight: int | None = None,
                     height: int = 300):
    """All 10 class probabilities (hiragana labels); `highlight` (e.g. the true class) in orange."""
    import numpy as np

    probabilities = np.asarray(probabilities, dtype="float64").tolist()
    best = int(np.argmax(probabilities))
    colours = ["#2ca02c" if i == best else "#ff7f0e" if i == highlight else "#9aa5b1"
               for i in range(len(probabilities))]
    figure = go.Figure(go.Bar(x=CLASS_LABELS, y=probabilities, marker_color=colours,
                              text=[f"{p:.1%}" for p in probabilities], textposition="outside",
                              hovertemplate="%{x}: %{y:.1%}<extra></extra>"))
    figure.update_yaxes(range=[0, 1.12], tickformat=".0%", title_text="probability")
    figure.update_xaxes(type="category")
    return styled(figure, title, height=height)


def top_classes_bars(top: list[dict], height: int = 220):
    """Sketch pad: the top-k classes ({'class', 'prob'} records), best on top, as horizontal bars."""
    labels = [CLASSES[t["class"]].name for t in top][::-1]
    values = [t["prob"] for t in top][::-1]
    figure = go.Figure(go.Bar(x=values, y=labels, orientation="h", text=[f"{v:.1%}" for v in values],
                              textposition="auto", marker_color=ACCENT,
                              hovertemplate="%{y}: %{x:.1%}<extra></extra>"))
    figure.update_xaxes(range=[0, 1], tickformat=".0%")
    figure.update_yaxes(type="category", tickfont=dict(size=18))
    return styled(figure, "Top classes", height=height)


def clickable_map(values, title: str, highlight: tuple[int, int, int] | None = None,
                  height: int = 360) -> go.Figure:
    """feature_map whose every cell can be clicked: the selection's customdata is (row, col)."""
    import numpy as np

    rows, cols = np.shape(values)
    y, x = np.mgrid[0:rows, 0:cols]
    figure = feature_map(values, title, highlight=highlight, height=height)
    figure.data[0].hoverinfo = "skip"
    text = [f"row {r}, col {c}: {v:.3f}"
            for r, c, v in zip(y.ravel(), x.ravel(), np.ravel(values), strict=True)]
    return click_targets(figure, x.ravel(), y.ravel(), np.stack([y.ravel(), x.ravel()], 1).tolist(),
                         max(4, int((height - 90) / max(rows, 1))), text)


def network_overview(stages, dense, probabilities, height: int = 560) -> go.Figure:
    """Input → every conv/pooling layer → dense → softmax, left to right, in one figure.

    `stages` are (title, grid, channels) per picture column: a feature_grid of a few maps stacked in one
    column and its grid_channels (the hover names each map); `dense` is (title, activations) or None.
    A click on a map of a layer selects (position in `stages`, map) as customdata (click_targets).
    """
    import numpy as np
    from plotly.subplots import make_subplots

    titles = [title for title, _, _ in stages] + ([dense[0]] if dense else []) + ["softmax"]
    figure = make_subplots(rows=1, cols=len(titles), subplot_titles=titles, horizontal_spacing=0.015)
    for column, (_, grid, channels) in enumerate(stages, start=1):
        figure.add_trace(go.Heatmap(z=np.asarray(grid, "float64"), customdata=np.asarray(channels),
                                    colorscale="gray" if column == 1 else "Viridis", showscale=False,
                                    hovertemplate="map %{customdata}<br>value %{z:.2f}<extra></extra>"),
                         row=1, col=column)
        maps = [int(c) for c in np.unique(channels) if c >= 0] if column > 1 else []
        centres = [np.argwhere(np.asarray(channels) == c).mean(axis=0) for c in maps]  # (y, x) of each tile
        click_targets(figure, [x for _, x in centres], [y for y, _ in centres],
                      [[column - 1, c] for c in maps], 60, [f"map {c}: click to enlarge" for c in maps],
                      row=1, col=column)
    if dense:
        values = np.asarray(dense[1], "float64")
        side = int(np.ceil(np.sqrt(len(values))))
        square = np.full(side * side, np.nan)
        square[:len(values)] = values
        figure.add_trace(go.Heatmap(z=square.reshape(side, side), colorscale="Viridis", showscale=False,
                                    customdata=np.arange(side * side).reshape(side, side),
                                    hovertemplate="unit %{customdata}: %{z:.2f}<extra></extra>"),
                         row=1, col=len(titles) - 1)
    probabilities = np.asarray(probabilities, "float64")
    figure.add_trace(go.Bar(x=probabilities, y=CLASS_LABELS, orientation="h", marker_color=[
        "#2ca02c" if i == int(probabilities.argmax()) else "#9aa5b1" for i in range(len(probabilities))],
        hovertemplate="%{y}: %{x:.1%}<extra></extra>"), row=1, col=len(titles))
    figure.update_xaxes(visible=False)
    figure.update_yaxes(visible=False, autorange="reversed")
    figure.update_yaxes(visible=True, type="category", side="right", row=1, col=len(titles))
    figure.update_xaxes(range=[0, 1], row=1, col=len(titles))
    figure.update_annotations(font_size=11)
    figure.update_layout(showlegend=False, height=height, margin=dict(l=5, r=70, t=40, b=5))
    return figure


def symmetric_limit(*grids) -> float:
    """The largest |value| in `grids`: the end of a colour scale symmetric about 0 that shows them all
    alike (1 when all are 0)."""
    import numpy as np

    return max((float(np.abs(np.asarray(grid, "float64")).max(initial=0.0)) for grid in grids),
               default=0.0) or 1.0


def _numbered(values, padded, limit: float, **trace) -> go.Heatmap:
    """A small grid with every number in its cell ('pad 0' where `padded`), on the colour scale
    red (+limit) - white (0) - blue (-limit)."""
    import numpy as np

    values = np.asarray(values, dtype="float64")
    padded = np.zeros(values.shape, bool) if padded is None else np.asarray(padded, bool)
    text = np.where(padded, "pad 0", np.vectorize(lambda v: f"{v:.3f}")(values))
    return go.Heatmap(z=values, text=text, texttemplate="%{text}", colorscale="RdBu_r", zmin=-limit,
                      zmax=limit, textfont=dict(size=13),
                      hovertemplate="row %{y}, col %{x}: %{z:.4f}<extra></extra>", **trace)


def value_grid(values, title: str, padded=None, limit: float | None = None, height: int = 230) -> go.Figure:
    """A small grid (e.g. a 3x3 window) with every number written in its cell, red above 0 and blue below,
    up to ±`limit` (default its own largest |value|; give several grids one limit to compare them); cells
    marked in `padded` read 'pad 0' (the zeros 'same' padding puts around the input)."""
    figure = go.Figure(_numbered(values, padded, limit or symmetric_limit(values), showscale=False))
    figure.update_xaxes(visible=False, constrain="domain")
    figure.update_yaxes(visible=False, autorange="reversed", scaleanchor="x", constrain="domain")
    figure.update_layout(title=dict(text=title, font_size=13), height=height,
                         margin=dict(l=5, r=5, t=35, b=5))
    return figure


def value_grids(rows, scales: dict[str, float], row_height: int = 210) -> go.Figure:
    """value_grid's grids in one figure: `rows` of (title, values, padded) cells, one column per kind of
    grid. Column i has one colour scale for all its rows, symmetric about 0, so equal numbers look alike:
    `scales` names each (a colour bar under its column) and gives its end (e.g. symmetric_limit)."""
    from plotly.subplots import make_subplots

    columns = len(scales)
    figure = make_subplots(rows=len(rows), cols=columns, horizontal_spacing=0.06,
                           vertical_spacing=0.12 / len(rows),
                           subplot_titles=[title for row in rows for title, _, _ in row])
    for column, (scale, limit) in enumerate(scales.items()):
        axis = "coloraxis" if column == 0 else f"coloraxis{column + 1}"
        figure.update_layout({axis: dict(colorscale="RdBu_r", cmin=-limit, cmax=limit, colorbar=dict(
            title=dict(text=scale, side="top"), orientation="h", thickness=10, len=0.8 / columns,
            x=(column + 0.5) / columns, xanchor="center", y=0, yanchor="top", ypad=8))})
        for number, row in enumerate(rows, start=1):
            _, values, padded = row[column]
            figure.add_trace(_numbered(values, padded, limit, coloraxis=axis), row=number, col=column + 1)
    figure.update_xaxes(visible=False, constrain="domain")
    figure.update_yaxes(visible=False, autorange="reversed", constrain="domain")
    for number in range(1, len(rows) * columns + 1):  # square cells in every grid
        figure.update_yaxes(scaleanchor=f"x{number if number > 1 else ''}", row=(number - 1) // columns + 1,
                            col=(number - 1) % columns + 1)
    figure.update_annotations(font_size=13)
    return styled(figure, height=row_height * len(rows) + 110).update_layout(margin=dict(l=5, r=5, b=90))


def grad_cam_heatmap(heatmap, title: str, height: int = 300) -> go.Figure:
    """A Grad-CAM heatmap (0 to 1) in the colours gradcam.overlay tints the input with, and their scale."""
    figure = go.Figure(go.Heatmap(
        z=heatmap, zmin=0.0, zmax=1.0, colorscale=[[stop, f"rgb{rgb}"] for stop, rgb in HEAT],
        colorbar=dict(thickness=10, title=dict(text="evidence", side="right"), tickvals=[0, 0.5, 1],
                      ticktext=["none", "half", "most"]),
        hovertemplate="row %{y}, col %{x}: %{z:.2f}<extra></extra>"))
    figure.update_xaxes(visible=False, constrain="domain")
    figure.update_yaxes(visible=False, autorange="reversed", scaleanchor="x", constrain="domain")
    return styled(figure, title, height=height).update_layout(margin=dict(l=5, r=5, b=5))
