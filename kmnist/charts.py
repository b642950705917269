"""Plotly figures for every page (pure functions: arrays and records in, go.Figure out)."""

from __future__ import annotations

import plotly.graph_objects as go

from kmnist.classes import CLASSES

CLASS_LABELS = [kana.label for kana in CLASSES]


def styled(figure: go.Figure, title: str | None = None, height: int = 320) -> go.Figure:
    """The house style: compact margins, a title, the same height across pages."""
    figure.update_layout(title=title, height=height, margin=dict(l=40, r=20, t=50 if title else 20, b=40),
                         legend=dict(orientation="h", y=-0.2))
    return figure
