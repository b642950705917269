"""A model's card on a page: how well the model does, what data trained it, with which settings, and its
files to download."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from kmnist.data.origins import seen_words
from kmnist.evaluation import gap
from kmnist.registry import store
from kmnist.registry.cards import Card, TestMetrics
from kmnist.registry.export import export_fix

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


def model_files(model_path: Path, key: str) -> None:
    """A download button for each of a saved model's files (the model, its ONNX twin, its card), or a line
    naming a missing one. The bytes are read when a button is clicked, not when the page is drawn."""
    model_path = Path(model_path)
    files = ((model_path, "Keras model", "application/octet-stream", "retrain it"),
             (store.onnx_path(model_path), "ONNX twin", "application/octet-stream", export_fix(model_path)),
             (store.card_path(model_path), "model card", "application/json", "retrain it"))
    for column, (path, what, mime, fix) in zip(st.columns(len(files)), files, strict=True):
        if path.is_file():
            column.download_button(path.name, data=path.read_bytes, file_name=path.name, mime=mime,
                                   key=f"{key}-download-{path.name}", help=f"Download the {what}.",
                                   icon=":material/download:", on_click="ignore")
        else:
            column.caption(f":material/block: No {what}: {path.name} is missing; {fix}.")


def model_card(entry: store.ModelEntry, expanded: bool = False) -> None:
    """An expander with the model card of `entry`: test figures, data provenance, training config, and its
    files to download."""
    with st.expander(f"Model card: {entry.name}", expanded=expanded):
        if entry.card is None:
            st.warning(entry.problem or "This model has no card: the data it was trained on and its "
                                        "accuracy are unknown.")
        else:
            _card_figures(entry)
        model_files(entry.path, "model-card")


def _card_figures(entry: store.ModelEntry) -> None:
    card = entry.card
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
