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
    """Loss and accuracy (per batch and per epoch), macro AUC per epoch, train solid vs validation dashed.

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
        for col, key in ((1, "batch_loss"), (3, "batch_accuracy")):
            if batches and key in batches[-1]:
                figure.add_trace(go.Scatter(x=_batch_position(mine), y=[r.get(key) for r in batches],
                                            mode="lines", line=dict(color=color, width=1), opacity=0.35,
                                            name=f"{prefix}train (per batch)", legendgroup=f"{run}-batch",
                                            showlegend=col == 1),
                                 row=1, col=col)
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
    figure = go.Figure(go.Bar(x=chars, y=values, text=[f"{v:.1%}" for v in values], textposition="outside",
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
                              text=[f"{p:.1%}" for p in probabilities], textposition="outside",
                              hovertemplate="%{x}: %{y:.1%}<extra></extra>"))
    figure.update_yaxes(range=[0, 1.12], tickformat=".0%", title_text="probability")
    figure.update_xaxes(type="category")
    return styled(figure, title, height=height)


def top_classes_bars(top: list[dict], height: int = 220):
    """Sketch pad: the top-k classes ({'char','romaji','prob'} records), best on top, as horizontal bars."""
    labels = [f"{t['char']} ({t['romaji']})" for t in top][::-1]
    values = [t["prob"] for t in top][::-1]
    figure = go.Figure(go.Bar(x=values, y=labels, orientation="h", text=[f"{v:.1%}" for v in values],
                              textposition="auto", marker_color=["#9aa5b1"] * (len(values) - 1) + ["#2ca02c"],
                              hovertemplate="%{y}: %{x:.1%}<extra></extra>"))
    figure.update_xaxes(range=[0, 1], tickformat=".0%")
    figure.update_yaxes(type="category", tickfont=dict(size=18))
    return styled(figure, "Top classes", height=height)


# -- runs compared: per-class accuracy side by side, a confusion matrix whose cells can be clicked ---------
def per_class_comparison(accuracy: dict[str, list], height: int = 340):
    """Grouped bars: each model's test accuracy per class (kmnist.comparison.per_class_accuracy)."""
    chars = [f"{kana.char} {kana.romaji}" for kana in CLASSES]
    figure = go.Figure()
    for index, (name, values) in enumerate(accuracy.items()):
        figure.add_bar(x=chars, y=values, name=name, marker_color=RUN_COLORS[index % len(RUN_COLORS)],
                       hovertemplate=f"{name}<br>" + "%{x}: %{y:.1%} right<extra></extra>")
    figure.update_layout(barmode="group")
    low = min((v for values in accuracy.values() for v in values if v is not None and v == v), default=0)
    figure.update_yaxes(range=[max(0.0, low - 0.05), 1.0], tickformat=".0%", title_text="accuracy")
    figure.update_xaxes(type="category")
    return styled(figure, "Accuracy per class (test set)", height=height)


def clickable_confusion(confusion, title: str = "Confusion matrix (test set)", height: int = 460):
    """confusion_heatmap with a square marker on every cell, so a click selects the cell.

    Plotly cannot select heatmap cells, so Streamlit's on_select sees no click on a heatmap; the markers
    (trace 1, one per cell in kmnist.confusion.CELLS order, so point_index = true * 10 + predicted) are
    clear until selected and catch clicks anywhere in their cell (hoverdistance -1: the closest marker).
    """
    from kmnist.confusion import CELLS

    figure = confusion_heatmap(confusion, height=height)
    figure.update_traces(hoverinfo="skip", hovertemplate=None)
    chars = [f"{kana.char} {kana.romaji}" for kana in CLASSES]
    figure.add_trace(go.Scatter(
        x=[chars[cell.predicted] for cell in CELLS], y=[chars[cell.true] for cell in CELLS], mode="markers",
        customdata=[int(confusion[cell.true][cell.predicted]) for cell in CELLS], showlegend=False,
        marker=dict(symbol="square", size=24, color="rgba(0,0,0,0)"),
        selected=dict(marker=dict(color="rgba(255,45,85,0.45)")),
        hovertemplate="true %{y}<br>predicted %{x}<br>%{customdata} images (click)<extra></extra>"))
    figure.update_layout(clickmode="event+select", hovermode="closest", hoverdistance=-1, dragmode=False)
    return styled(figure, title, height=height)


# -- layer visualizer: the network at a glance, one convolution worked out, grids sized to their width -----
def fit_to_width(figure: go.Figure, shape: tuple[int, int], width: int) -> go.Figure:
    """Give a square-pixel heatmap of `shape` (rows, cols) the height that fills `width` pixels, with thin
    margins, so no white band is left above or below it."""
    top = 40 if figure.layout.title.text else 5
    figure.update_layout(margin=dict(l=5, r=5, t=top, b=5),
                         height=int(top + 5 + (width - 10) * shape[0] / max(shape[1], 1)))
    return figure


def click_targets(figure: go.Figure, x, y, customdata, size: int, hovertext, row=None, col=None) -> go.Figure:
    """Invisible square markers at (x, y) that carry `customdata` (two numbers each): Streamlit selects
    scatter points on a click but not heatmap cells, so these make a heatmap clickable."""
    figure.add_trace(go.Scatter(x=x, y=y, customdata=customdata, mode="markers", hovertext=hovertext,
                                marker=dict(symbol="square", size=size, opacity=0.01, color="white"),
                                hovertemplate="%{hovertext}<extra></extra>", showlegend=False),
                     row=row, col=col)
    return figure


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


def value_grid(values, title: str, padded=None, colorscale: str = "Viridis", zmid: float | None = None,
               height: int = 230) -> go.Figure:
    """A small grid (e.g. a 3x3 window) with every number written in its cell; cells marked in `padded`
    read 'pad 0' (the zeros 'same' padding puts around the input)."""
    import numpy as np

    values = np.asarray(values, dtype="float64")
    padded = np.zeros(values.shape, bool) if padded is None else np.asarray(padded, bool)
    text = np.where(padded, "pad 0", np.vectorize(lambda v: f"{v:.3f}")(values))
    figure = go.Figure(go.Heatmap(z=values, text=text, texttemplate="%{text}", colorscale=colorscale,
                                  zmid=zmid, showscale=False, textfont=dict(size=13),
                                  hovertemplate="row %{y}, col %{x}: %{z:.4f}<extra></extra>"))
    figure.update_xaxes(visible=False, constrain="domain")
    figure.update_yaxes(visible=False, autorange="reversed", scaleanchor="x", constrain="domain")
    figure.update_layout(title=dict(text=title, font_size=13), height=height,
                         margin=dict(l=5, r=5, t=35, b=5))
    return figure
