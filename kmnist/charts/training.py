"""Training and results figures: live curves, confusion matrices, per-class accuracy."""

from __future__ import annotations

import plotly.graph_objects as go

from kmnist.charts.style import CLASS_NAMES, RUN_COLORS, styled
from kmnist.evaluation.confusion import CELLS


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
    figure = go.Figure(go.Heatmap(
        z=z, x=CLASS_NAMES, y=CLASS_NAMES, colorscale="Blues", text=z, texttemplate="%{text}",
        showscale=False,
        hovertemplate="true %{y}<br>predicted %{x}<br>%{z} images<extra></extra>"))
    figure.update_xaxes(title_text="predicted class", side="bottom", type="category")
    figure.update_yaxes(title_text="true class", autorange="reversed", type="category")
    return styled(figure, "Confusion matrix (test set)", height=height)


MEAN_LABEL_ROOM = 80  # px right of the plot for per_class_bar's "mean 95.1%", clear of the bars' labels


def per_class_bar(per_class_accuracy, height: int = 320):
    """Test accuracy of each class as bars, the mean as a dotted line behind them, labelled at the right."""
    values = [float(v) for v in per_class_accuracy]
    figure = go.Figure(go.Bar(x=CLASS_NAMES, y=values, text=[f"{v:.1%}" for v in values],
                              textposition="inside", insidetextanchor="end", textangle=0,
                              marker_color="#1f77b4",
                              hovertemplate="%{x}: %{y:.1%} of its test images right<extra></extra>"))
    mean = sum(values) / len(values) if values else 0
    figure.add_hline(y=mean, line_dash="dot", layer="below", annotation_text=f"mean {mean:.1%}",
                     annotation_position="right")  # hidden by the bars, which hold their labels
    figure.update_yaxes(range=[0, 1], tickformat=".0%", title_text="accuracy")
    figure.update_xaxes(type="category")
    return styled(figure, "Accuracy per class (test set)", height=height).update_layout(
        margin_r=MEAN_LABEL_ROOM)


# -- runs compared: per-class accuracy side by side, a confusion matrix whose cells can be clicked ---------
def per_class_comparison(accuracy: dict[str, list], height: int = 340):
    """Grouped bars: each model's test accuracy per class (kmnist.comparison.per_class_accuracy)."""
    figure = go.Figure()
    for index, (name, values) in enumerate(accuracy.items()):
        figure.add_bar(x=CLASS_NAMES, y=values, name=name, marker_color=RUN_COLORS[index % len(RUN_COLORS)],
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

    figure = confusion_heatmap(confusion, height=height)
    figure.update_traces(hoverinfo="skip", hovertemplate=None)
    figure.add_trace(go.Scatter(
        x=[CLASS_NAMES[cell.predicted] for cell in CELLS], y=[CLASS_NAMES[cell.true] for cell in CELLS],
        mode="markers",
        customdata=[int(confusion[cell.true][cell.predicted]) for cell in CELLS], showlegend=False,
        marker=dict(symbol="square", size=24, color="rgba(0,0,0,0)"),
        selected=dict(marker=dict(color="rgba(255,45,85,0.45)")),
        hovertemplate="true %{y}<br>predicted %{x}<br>%{customdata} images (click)<extra></extra>"))
    figure.update_layout(clickmode="event+select", hovermode="closest", hoverdistance=-1, dragmode=False)
    return styled(figure, title, height=height)
