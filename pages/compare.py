"""Compare runs: two or more saved models side by side, then one model's confusion matrix to click through."""

import streamlit as st

from kmnist.registry import pairs as pairs_registry
from kmnist.registry import store
from kmnist.ui.comparison_view import comparison_view
from kmnist.ui.confusion_view import model_results
from kmnist.ui.model_card import model_card
from kmnist.ui.navigation import COMPARE, page_header
from kmnist.ui.resources import get_data, provenance_note

page_header(COMPARE)
st.markdown("Each saved model keeps a **model card**: its settings, its curves epoch by epoch and its test "
            "results. Put two or more side by side to see what a change of settings did.")
data = get_data()
provenance_note(data)

entries = store.list_models()  # read once per rerun
with_cards = [entry for entry in entries if entry.card]
if len(with_cards) < 2:
    st.warning("Comparing needs at least two saved models with a model card: train some on the "
               "**Training** page.")
else:
    pairs = pairs_registry.find_pairs(with_cards)
    default = list(pairs[0]) if pairs else with_cards[:2]
    chosen = st.multiselect("Models to compare", with_cards, default=default, key="compare_models",
                            format_func=lambda e: e.name, placeholder="Pick two or more models")
    current = {entry.name: entry for entry in with_cards}  # the widget keeps the entries it was given:
    chosen = [current[entry.name] for entry in chosen if entry.name in current]  # their cards as now
    if len(chosen) < 2:
        st.info("Pick at least two models.")
    else:
        comparison_view(chosen, key="compare")

st.header("One model's mistakes, cell by cell")
usable = [entry for entry in entries if entry.usable]
if usable:
    entry = st.selectbox("Model", usable, key="results_model", format_func=lambda e: e.name)
    model_card(entry)
    model_results(entry, data, key="results")
else:
    st.warning("No usable model yet: train one on the **Training** page.")
