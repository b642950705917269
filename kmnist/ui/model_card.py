"""A model's card on a page: how well the model does, what data trained it, with which settings."""

from __future__ import annotations

import streamlit as st

from kmnist.data.origins import seen_words
from kmnist.evaluation import gap
from kmnist.registry import store
from kmnist.registry.cards import Card, TestMetrics

MISSING = "–"  # a figure the card does not record (e.g. a run interrupted before its test)


AUC_HELP = ("Area under the ROC curve, one class against the rest, averaged over the 10 classes: the chance "
            "that a random image of a class gets a higher score for that class than a random image of "
            "another class (1 = perfect, 0.5 = guessing).")


def _figure(value, spec: str, unit: str = "") -> str:
    return MISSING if value is None else f"{value:{spec}}{unit}"


def test_metrics(card: Card) -> None:
    """A finished run's figures in four columns: test accuracy, macro AUC, test loss, training time."""
    test = card.test or TestMetrics()
    columns = st.columns(4)
    columns[0].metric("Test accuracy", _figure(test.accuracy, ".1%"))
    columns[1].metric("Macro AUC", _figure(test.macro_auc, ".4f"), help=AUC_HELP)
    columns[2].metric("Test loss", _figure(test.loss, ".3f"))
    columns[3].metric("Training time", _figure(card.training_seconds, ".0f", " s"))
    if found := gap.gap(card):
        st.info(f"**Far better on validation than on test:** {gap.gap_words(*found)}. {gap.LESSON}",
                icon=":material/school:")


def model_card(entry: store.ModelEntry, expanded: bool = False) -> None:
    """An expander with the model card of `entry`: test figures, data provenance, training config."""
    card = entry.card
    with st.expander(f"Model card: {entry.name}", expanded=expanded):
        if card is None:
            st.warning(entry.problem or "This model has no card: the data it was trained on and its "
                                        "accuracy are unknown.")
            return
        test = card.test or TestMetrics()
        columns = st.columns(4)
        columns[0].metric("Test accuracy", _figure(test.accuracy, ".1%"))
        columns[1].metric("Macro AUC", _figure(test.macro_auc, ".4f"), help=AUC_HELP)
        columns[2].metric("Parameters", _figure(card.parameters, ","))
        columns[3].metric("Status", entry.status)
        if card.data is not None:
            note = ":material/verified:" if card.data.official else ":material/warning:"
            st.caption(f"{note} Trained on: {card.data.summary or card.data.name or 'unknown data'}; "
                       f"{seen_words(card.data.images)}.")
        if card.config is not None:
            st.caption("Training config: " + ", ".join(f"{name} = {getattr(card.config, name)}"
                                                       for name in card.config_fields))
