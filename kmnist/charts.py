"""Plotly figures for every page (pure functions: arrays and records in, go.Figure out)."""

from __future__ import annotations

import plotly.graph_objects as go

from kmnist.classes import CLASSES
from kmnist.images import to_float

CLASS_LABELS = [kana.label for kana in CLASSES]


def styled(figure: go.Figure, title: str | None = None, height: int = 320) -> go.Figure:
    """The house style: compact margins, a title, the same height across pages."""
    figure.update_layout(title=title, height=height, margin=dict(l=40, r=20, t=50 if title else 20, b=40),
                         legend=dict(orientation="h", y=-0.2))
    return figure


# --- Dataset explorer ------------------------------------------------------------------------------

DATASET_CLASS_COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                        "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]


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
    """A 2-D scatter of images coloured by class; each point carries [position, class label] as customdata.

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
            customdata=[[int(positions[i]), kana.label] for i in members],
            hovertemplate="image #%{customdata[0]}<br>class %{customdata[1]}<extra></extra>"))
    figure.update_layout(xaxis_title=axis_names[0], yaxis_title=axis_names[1], dragmode="pan",
                         clickmode="event+select")
    figure = styled(figure, title, height=height)
    figure.update_layout(legend=dict(orientation="v", y=1, x=1.02, itemsizing="constant"))
    return figure


# -- training: live curves, confusion matrix, per-class accuracy, mistakes gallery ------------------------
RUN_COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b")


def _runs_in_order(records) -> list:
    runs: list = []
    for record in records:
        if record.get("run") not in runs:
            runs.append(record.get("run"))
    return runs


def _batch_position(records) -> list[float]:
    """Each batch record's position in epochs (epoch 2, batch 5 of 10 -> 1.5) for a shared x axis."""
    steps = next((r.get("steps") for r in records if r["kind"] == "begin" and r.get("steps")), None)
    if not steps:
        steps = max((r["batch"] for r in records if r["kind"] == "batch"), default=1)
    return [r["epoch"] - 1 + r["batch"] / steps for r in records if r["kind"] == "batch"]


def training_curves(records, height: int = 340):
    """Loss (per batch and per epoch), macro AUC and accuracy per epoch, train solid vs validation dashed.

    `records` are StreamingCallback records (or a model card's "history"); records tagged with a
    "run" key are drawn one colour per run, so two runs (max vs avg pooling) overlay.
    """
    from plotly.subplots import make_subplots

    figure = make_subplots(rows=1, cols=3, horizontal_spacing=0.07,
                           subplot_titles=("Loss (lower is better)", "AUC, macro one-vs-rest",
                                           "Accuracy"))
    runs = _runs_in_order(records)
    for index, run in enumerate(runs):
        color = RUN_COLORS[index % len(RUN_COLORS)]
        mine = [r for r in records if r.get("run") == run]
        prefix = f"{run} · " if run is not None and len(runs) > 1 else ""
        batches = [r for r in mine if r["kind"] == "batch"]
        if batches:
            figure.add_trace(go.Scatter(x=_batch_position(mine), y=[r["batch_loss"] for r in batches],
                                        mode="lines", line=dict(color=color, width=1), opacity=0.35,
                                        name=f"{prefix}train (per batch)"),
                             row=1, col=1)
        epochs = [r for r in mine if r["kind"] == "epoch" and not r.get("interrupted")]
        x = [r["epoch"] for r in epochs]
        for col, (train_key, val_key) in enumerate(
                [("loss", "val_loss"), ("auc", "val_auc"), ("accuracy", "val_accuracy")], start=1):
            for key, dash, label in ((train_key, "solid", "train"), (val_key, "dash", "validation")):
                values = [r.get(key) for r in epochs]
                if not any(v is not None for v in values):
                    continue
                figure.add_trace(go.Scatter(x=x, y=values, mode="lines+markers",
                                            line=dict(color=color, dash=dash, width=2),
                                            name=f"{prefix}{label} (per epoch)",
                                            legendgroup=f"{run}-{label}", showlegend=col == 1),
                                 row=1, col=col)
    figure.update_xaxes(title_text="epoch", rangemode="tozero")
    figure.update_yaxes(rangemode="tozero", row=1, col=1)
    figure.update_yaxes(tickformat=".0%", row=1, col=3)
    return styled(figure, height=height)


def confusion_heatmap(confusion, height: int = 460):
    """A 10x10 confusion matrix: rows are true classes, columns predicted, counts written in the cells."""
    z = [[int(v) for v in row] for row in confusion]
    chars = [f"{kana.char} {kana.romaji}" for kana in CLASSES]
    figure = go.Figure(go.Heatmap(
        z=z, x=chars, y=chars, colorscale="Blues", text=z, texttemplate="%{text}", showscale=False,
        hovertemplate="true %{y}<br>predicted %{x}<br>%{z} images<extra></extra>"))
    figure.update_xaxes(title_text="predicted class", side="bottom", type="category")
    figure.update_yaxes(title_text="true class", autorange="reversed", type="category")
    return styled(figure, "Confusion matrix (test set)", height=height)


def per_class_bar(per_class_accuracy, height: int = 320):
    """Test accuracy of each class as bars, the mean as a dotted line."""
    values = [float(v) for v in per_class_accuracy]
    chars = [f"{kana.char} {kana.romaji}" for kana in CLASSES]
    figure = go.Figure(go.Bar(x=chars, y=values, text=[f"{v:.0%}" for v in values], textposition="outside",
                              marker_color="#1f77b4",
                              hovertemplate="%{x}: %{y:.1%} of its test images right<extra></extra>"))
    mean = sum(values) / len(values) if values else 0
    figure.add_hline(y=mean, line_dash="dot", annotation_text=f"mean {mean:.1%}")
    figure.update_yaxes(range=[0, 1.1], tickformat=".0%", title_text="accuracy")
    figure.update_xaxes(type="category")
    return styled(figure, "Accuracy per class (test set)", height=height)


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


# -- pooling: a feature map with its values, a highlighted 2x2 window ------------------------------------
def feature_map(values, title: str, highlight: tuple[int, int, int] | None = None, show_values: bool = False,
                zrange: tuple[float, float] | None = None, height: int = 360):
    """One feature map as a heatmap; `highlight` = (top row, left col, size) draws a box around cells."""
    import numpy as np

    values = np.asarray(values, dtype="float64")
    figure = go.Figure(go.Heatmap(
        z=values, colorscale="Viridis", zmin=zrange[0] if zrange else None,
        zmax=zrange[1] if zrange else None, text=np.round(values, 2) if show_values else None,
        texttemplate="%{text}" if show_values else None, colorbar=dict(thickness=10),
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
                              text=[f"{p:.0%}" for p in probabilities], textposition="outside",
                              hovertemplate="%{x}: %{y:.2%}<extra></extra>"))
    figure.update_yaxes(range=[0, 1.12], tickformat=".0%", title_text="probability")
    figure.update_xaxes(type="category")
    return styled(figure, title, height=height)


def top_classes_bars(top: list[dict], height: int = 220):
    """Sketch pad: the top-k classes ({'char','romaji','prob'} records), best on top, as horizontal bars."""
    labels = [f"{t['char']} ({t['romaji']})" for t in top][::-1]
    values = [t["prob"] for t in top][::-1]
    figure = go.Figure(go.Bar(x=values, y=labels, orientation="h", text=[f"{v:.0%}" for v in values],
                              textposition="auto", marker_color=["#9aa5b1"] * (len(values) - 1) + ["#2ca02c"],
                              hovertemplate="%{y}: %{x:.2%}<extra></extra>"))
    figure.update_xaxes(range=[0, 1], tickformat=".0%")
    figure.update_yaxes(type="category", tickfont=dict(size=18))
    return styled(figure, "Top classes", height=height)
