"""The look every Plotly figure shares: layout, colours, fitting to a width, invisible click targets."""

from __future__ import annotations

import plotly.graph_objects as go

from kmnist.data.classes import CLASSES

CLASS_LABELS = [kana.label for kana in CLASSES]  # '0 お (o)': axes that list all ten classes
CLASS_NAMES = [kana.name for kana in CLASSES]    # 'お (o)': where the class is named in words


# Px at the top of a figure: the row where Plotly's mode bar (and Streamlit's toolbar) show on hover, at the
# right, and a title's line under it. A title or subplot title kept below that row is never covered.
MODEBAR, HEADING = 36, 26


def _headed(figure: go.Figure, title: str | None) -> bool:
    """Whether text stands above the plot: a title, or subplot titles (paper annotations at its top)."""
    return bool(title) or any(a.yref == "paper" and (a.y or 0) >= 1 for a in figure.layout.annotations)


def styled(figure: go.Figure, title: str | None = None, height: int = 320) -> go.Figure:
    """The house style: compact margins, a title just above the plot and below the mode bar's row, the same
    height across pages, trace names in full in hover labels (Plotly cuts them at 15 characters)."""
    top = MODEBAR + HEADING if _headed(figure, title) else 20
    figure.update_layout(title=dict(text=title, yref="paper", y=1, yanchor="bottom", pad=dict(b=6)),
                         height=height, margin=dict(l=40, r=20, t=top, b=40), hoverlabel=dict(namelength=-1),
                         legend=dict(orientation="h", yref="container", y=0, yanchor="bottom"))
    return figure


DATASET_CLASS_COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                        "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]


# -- training: live curves, confusion matrix, per-class accuracy, mistakes gallery ------------------------
ACCENT = "#a8303e"  # the app theme's primaryColor (.streamlit/config.toml); the pad's CSS uses it too
RUN_COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b")


# -- layer visualizer: the network at a glance, one convolution worked out, grids sized to their width -----
def fit_to_width(figure: go.Figure, shape: tuple[int, int], width: int, ticks: int = 0) -> go.Figure:
    """Give a square-pixel heatmap of `shape` (rows, cols) the height that fills `width` pixels, with thin
    margins (`ticks` px more left and below for tick labels), so no white band is left above or below it."""
    top, side = MODEBAR + HEADING if figure.layout.title.text else 5, 5 + ticks
    figure.update_layout(margin=dict(l=side, r=5, t=top, b=side),
                         height=int(top + side + (width - side - 5) * shape[0] / max(shape[1], 1)))
    return figure


def click_targets(figure: go.Figure, x, y, customdata, size: int, hovertext, row=None, col=None) -> go.Figure:
    """Invisible square markers at (x, y) that carry `customdata` (two numbers each): Streamlit selects
    scatter points on a click but not heatmap cells, so these make a heatmap clickable."""
    figure.add_trace(go.Scatter(x=x, y=y, customdata=customdata, mode="markers", hovertext=hovertext,
                                marker=dict(symbol="square", size=size, opacity=0.01, color="white"),
                                hovertemplate="%{hovertext}<extra></extra>", showlegend=False),
                     row=row, col=col)
    return figure
