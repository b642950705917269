"""Clicks on a clickable Plotly chart, each taken once, so the widgets a click sets stay free to change."""

import streamlit as st

from kmnist.charts import clicks


def new_click(key: str) -> tuple[int, int] | None:
    """The two numbers a click on chart `key` carries (kmnist.inspection.clicked_cell), the first time the
    script sees that click; None when there is no click or it was already taken."""
    event = st.session_state.get(key)
    points = event.selection.points if event else []
    hit = clicks.clicked_cell(points)
    if hit is None or points == st.session_state.get(f"{key}_taken"):
        return None
    st.session_state[f"{key}_taken"] = points
    return hit
