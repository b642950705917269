"""A page's sections as tabs of which only the open one is drawn, their widgets keeping their values."""

from __future__ import annotations

import streamlit as st

KEPT = "_kept_{}"  # where a widget's last value waits while its tab is closed


def open_section(labels: list[str], key: str, keep: tuple[str, ...] = ()):
    """Tabs for `labels` (the first open at first, or the one Session State holds under `key`); returns the
    open one's label and its container.

    Only the open section is computed and sent, so coming back to a page draws one section, not all of
    them. A widget drawn only in a closed tab loses its value (Streamlit forgets widgets it does not draw):
    the widgets named in `keep` get theirs back when their tab opens again.
    """
    state = st.session_state
    for name in keep:
        if name in state:
            state[KEPT.format(name)] = state[name]
        elif KEPT.format(name) in state:
            state[name] = state[KEPT.format(name)]
    tabs = st.tabs(labels, key=key, on_change="rerun")
    return next(((label, tab) for label, tab in zip(labels, tabs, strict=True) if tab.open),
                (labels[0], tabs[0]))

