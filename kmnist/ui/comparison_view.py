"""Saved runs side by side from their cards: differing settings, test metrics, curves, per-class accuracy."""

from __future__ import annotations

import streamlit as st

from kmnist.charts import training as training_charts
from kmnist.evaluation import comparison, gap
from kmnist.registry import store
from kmnist.ui.figures import shared_figure

# The Compare runs page's sections (tabs, one open at a time: kmnist.ui.sections) and their widgets' keys.
SIDE_BY_SIDE, MISTAKES = "Models side by side", "One model's mistakes, cell by cell"
VIEW_KEY = "compare_view"
VIEW_WIDGETS = ("compare_models", "results_model")


def comparison_view(entries: list[store.ModelEntry], key: str, cause: str | None = None) -> None:
    """Compare the cards of `entries` (two or more); its charts are keyed `{key}_…` (e.g. "pair_curves").
    `cause`: what a gap in test accuracy comes from besides training noise (default: the settings that
    differ)."""
    for entry in entries:
        if entry.problem:
            st.warning(f"{entry.name}: {entry.problem}")
    cards = {entry.name: entry.card for entry in entries if entry.card}
    if len(cards) < 2:
        st.info("Comparing needs at least two models with a readable model card.")
        return

    differ, shared = comparison.settings_compared(cards)
    st.subheader("What differs")
    if differ:
        st.dataframe(differ, hide_index=True)
    else:
        st.info("These runs were trained with the same settings: any gap below is training noise.")
    st.caption(comparison.shared_note(shared))

    st.subheader("Test results")
    st.dataframe(comparison.metrics_rows(cards), hide_index=True)
    st.caption("All on each card's own held-out test set; validation accuracy is that of the epoch kept.")
    tests = {name: card.test.accuracy if card.test else None for name, card in cards.items()}
    cause = cause or ("the settings that differ" if differ else None)
    if verdict := comparison.accuracy_verdict(tests, cause):
        st.markdown(verdict)
    if gaps := {name: found for name, card in cards.items() if (found := gap.gap(card))}:
        listed = "; ".join(f"{name}: {gap.gap_words(*found)}" for name, found in gaps.items())
        st.info(f"**Far better on validation than on test:** {listed}. {gap.LESSON}",
                icon=":material/school:")
    st.plotly_chart(shared_figure(training_charts.training_curves, comparison.curve_records(cards)),
                    key=f"{key}_curves")
    st.caption("Solid: training; dashed: validation; one colour per model, from each model's card.")

    st.subheader("Accuracy per class")
    st.dataframe(comparison.per_class_rows(cards), hide_index=True,  # a model's name stays beside its row
                 column_config={"model": st.column_config.TextColumn(pinned=True)})
    st.plotly_chart(shared_figure(training_charts.per_class_comparison, comparison.per_class_accuracy(cards)),
                    key=f"{key}_class_bars")
    st.caption("Each model's test accuracy per class, one colour per model. Where the bars part, the "
               "differing settings help one class or hurt it; where they match, the models find that class "
               "equally easy or hard.")
