"""Figures and pictures built once per content and shared by every session: Plotly's checks make building a
figure, and st.plotly_chart's deep copy of it, take tens of milliseconds, and a page draws dozens on every
rerun; a composed picture of many images takes a tenth of a second."""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from kmnist.charts.style import fit_to_width


class _Drawn(go.Figure):
    """A finished figure whose dict (what st.plotly_chart sends) is made once, not deep-copied per call."""

    def to_dict(self) -> dict:
        return self._drawn


def frozen(figure: go.Figure) -> go.Figure:
    """`figure`, finished: from now on it is only read (drawn), so its dict is made once and kept."""
    drawn = figure.to_dict()
    figure.__class__ = _Drawn
    figure._drawn = drawn
    return figure


@st.cache_resource(show_spinner=False, max_entries=256)
def _shared(name: str, _builder, args: tuple, kwargs: dict, fit: tuple | None) -> go.Figure:
    figure = _builder(*args, **kwargs)
    return frozen(fit_to_width(figure, *fit) if fit else figure)


def shared_figure(builder, *args, fit: tuple | None = None, **kwargs) -> go.Figure:
    """`builder(*args, **kwargs)` (a pure function of arrays, numbers and text that returns a figure), fitted
    by kmnist.charts.style.fit_to_width(figure, *fit) when `fit` is given: built once per arguments (Streamlit
    hashes arrays by their values) for every session. Shared, so only drawn, never changed."""
    return _shared(f"{builder.__module__}.{builder.__qualname__}", builder, args, kwargs, fit)


@st.cache_resource(show_spinner=False, max_entries=32)
def shared_picture(key: tuple, _draw):
    """A composed picture (an array), drawn by `_draw` once per `key` (what it shows, including the copy of
    the data it comes from) and shared: st.image only reads it."""
    return _draw()
