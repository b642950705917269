"""The Dataset explorer's figures: class balance, intensity histograms, 2-D maps, labelled galleries."""

from __future__ import annotations

import plotly.graph_objects as go

from kmnist.charts.style import CLASS_LABELS, DATASET_CLASS_COLORS, styled
from kmnist.data.classes import CLASSES
from kmnist.data.pixels import to_float


def class_balance_figure(counts_by_split: dict[str, list[int]]) -> go.Figure:
    """Grouped bars: images per class for each split (e.g. {"train": [...10], "test": [...10]})."""
    figure = go.Figure()
    for split, counts in counts_by_split.items():
        total = sum(counts) or 1
        figure.add_bar(x=CLASS_LABELS, y=list(counts), name=f"{split} ({sum(counts):,})",
                       customdata=[100 * c / total for c in counts],
                       hovertemplate="%{x}: %{y:,} images (%{customdata:.1f}% of " + split + ")"
                                     "<extra></extra>")
    figure.update_layout(barmode="group", xaxis_title="class", yaxis_title="images")
    return styled(figure, "Images per class")


def intensity_histogram_figure(counts, edges, log_y: bool = False, title: str | None = None) -> go.Figure:
    """Bars of pixel counts over intensity bins (from np.histogram): how much is ink, how much is paper."""
    centres = [(lo + hi) / 2 for lo, hi in zip(edges[:-1], edges[1:], strict=True)]
    widths = [hi - lo for lo, hi in zip(edges[:-1], edges[1:], strict=True)]
    ranges = [f"{lo:.0f}–{hi - 1:.0f}" for lo, hi in zip(edges[:-1], edges[1:], strict=True)]
    figure = go.Figure(go.Bar(x=centres, y=list(counts), width=widths, customdata=ranges,
                              marker_color="#4c78a8",
                              hovertemplate="intensity %{customdata}: %{y:,} pixels<extra></extra>"))
    figure.update_layout(xaxis_title="pixel intensity (0 = background, 255 = full ink)",
                         yaxis_title="pixels", bargap=0.05)
    figure.update_xaxes(range=[0, 256])
    if log_y:
        figure.update_yaxes(type="log")
    return styled(figure, title or "Pixel intensities")


def projection_figure(coordinates, labels, positions, title: str, axis_names=("x", "y"),
                      height: int = 520) -> go.Figure:
    """A 2-D scatter of images coloured by class; each point carries [position, class index] as customdata.

    One WebGL trace per class, so the legend toggles classes and thousands of points stay fast.
    """
    figure = go.Figure()
    labels = [int(v) for v in labels]
    for kana in CLASSES:
        members = [i for i, label in enumerate(labels) if label == kana.index]
        if not members:
            continue
        figure.add_trace(go.Scattergl(
            x=[float(coordinates[i][0]) for i in members], y=[float(coordinates[i][1]) for i in members],
            mode="markers", name=kana.label, marker=dict(size=5, opacity=0.75,
                                                         color=DATASET_CLASS_COLORS[kana.index]),
            customdata=[[int(positions[i]), kana.index] for i in members],
            hovertemplate=f"image #%{{customdata[0]}}<br>class {kana.label}<extra></extra>"))
    figure.update_layout(xaxis_title=axis_names[0], yaxis_title=axis_names[1], dragmode="pan",
                         clickmode="event+select")
    figure = styled(figure, title, height=height)
    figure.update_layout(legend=dict(orientation="v", yref="paper", y=1, yanchor="top", x=1.02,
                                     itemsizing="constant"))
    return figure


def labelled_gallery(images, captions, columns: int = 10, pad: int = 2, caption_rows: int = 9,
                     height_per_row: int = 110):
    """Images (N, 28, 28) tiled into ONE grey picture, a caption under each (e.g. 'true お → は')."""
    import numpy as np

    images = to_float(images)
    count = len(images)
    if count == 0:
        return styled(go.Figure(), "Nothing to show", height=120)
    size = images.shape[1]
    columns = max(1, min(columns, count))
    rows = -(-count // columns)
    cell_h, cell_w = size + caption_rows + pad, size + pad
    grid = np.full((rows * cell_h, columns * cell_w), np.nan, "float32")
    figure = go.Figure()
    for index, image in enumerate(images):
        row, col = divmod(index, columns)
        top, left = row * cell_h, col * cell_w
        grid[top:top + size, left:left + size] = image
        figure.add_annotation(x=left + size / 2, y=top + size + caption_rows / 2, text=captions[index],
                              showarrow=False, font=dict(size=12))
    figure.add_trace(go.Heatmap(z=grid, colorscale="gray", showscale=False, hoverinfo="skip"))
    figure.update_xaxes(visible=False, constrain="domain")
    figure.update_yaxes(visible=False, autorange="reversed", scaleanchor="x")
    return styled(figure, height=max(160, rows * height_per_row + 40))
