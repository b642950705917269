"""Compare runs: two or more saved models side by side, or one model's confusion matrix to click through."""

import streamlit as st

from kmnist.registry import pairs as pairs_registry
from kmnist.registry import store
from kmnist.ui.comparison_view import MISTAKES, SIDE_BY_SIDE, VIEW_KEY, VIEW_WIDGETS, comparison_view
from kmnist.ui.confusion_view import model_results
from kmnist.ui.model_card import model_card
from kmnist.ui.navigation import COMPARE, page_header
from kmnist.ui.resources import get_data, provenance_note
from kmnist.ui.sections import open_section

page_header(COMPARE)
st.markdown("Each saved model keeps a **model card**: its settings, its curves epoch by epoch and its test "
            "results. Put two or more side by side to see what a change of settings did.")
data = get_data()
provenance_note(data)

entries = store.list_models()  # read once per rerun


def side_by_side() -> None:
    """Two or more models' cards compared: what differs, test results, curves, accuracy per class."""
    with_cards = [entry for entry in entries if entry.card]
    if len(with_cards) < 2:
        st.warning("Comparing needs at least two saved models with a model card: train some on the "
                   "**Training** page.")
        return
    pairs = pairs_registry.find_pairs(with_cards)
    default = list(pairs[0]) if pairs else with_cards[:2]
    if "compare_models" in st.session_state:  # kept while the other section was open
        default = None
    chosen = st.multiselect("Models to compare", with_cards, default=default, key="compare_models",
                            format_func=lambda e: e.name, placeholder="Pick two or more models")
    current = {entry.name: entry for entry in with_cards}  # the widget keeps the entries it was given:
    chosen = [current[entry.name] for entry in chosen if entry.name in current]  # their cards as now
    if len(chosen) < 2:
        st.info("Pick at least two models.")
    else:
        comparison_view(chosen, key="compare")


def mistakes() -> None:
    """One model's confusion matrix, a cell's test images, and one sent to the Layer visualizer."""
    usable = [entry for entry in entries if entry.usable]
    if not usable:
        st.warning("No usable model yet: train one on the **Training** page.")
        return
    entry = st.selectbox("Model", usable, key="results_model", format_func=lambda e: e.name)
    entry = next((e for e in usable if e.name == entry.name), entry)  # as now (a kept choice is older)
    model_card(entry)
    model_results(entry, data, key="results")


# -- One section at a time (tabs): only the open one is computed and drawn ---------------------------------
SECTIONS = {SIDE_BY_SIDE: side_by_side, MISTAKES: mistakes}
view, section = open_section(list(SECTIONS), VIEW_KEY, keep=VIEW_WIDGETS)
with section:
    SECTIONS[view]()
