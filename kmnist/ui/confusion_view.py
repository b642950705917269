"""A clickable confusion matrix: the clicked cell's test images, each one opens in the Layer visualizer."""

from __future__ import annotations

import numpy as np
import streamlit as st

from kmnist.charts import training
from kmnist.data.files import data_key
from kmnist.data.pixels import to_float, to_model_input, upscale
from kmnist.evaluation import confusion
from kmnist.evaluation.unseen import unseen_test
from kmnist.registry import store
from kmnist.ui.figures import shared_figure
from kmnist.ui.navigation import open_in_layers
from kmnist.ui.resources import get_classifier, model_stamps

MAX_SHOWN = 40  # images shown of one cell (the diagonal holds hundreds)
# plotly.js takes a click that comes within doubleClickDelay (500 ms) of the one before, on any cell, for a
# double-click, and Streamlit answers a double-click by clearing the selection: the click on the second
# cell was lost. 0: no double-clicks on this chart (its zoom resets from the toolbar).
CHART_CONFIG = {"doubleClickDelay": 0}


def confusion_explorer(labels, predicted, images, key: str, model_name: str, keep=None) -> None:
    """The confusion matrix of `predicted` against `labels` on test `images` (only those at `keep`, when
    given); a click on a cell shows its images (positions in the test set) and offers to open one in the
    Layer visualizer. The cell stays shown until another is clicked (a second click on it too: plotly then
    unmarks it, its images stay)."""
    keep = np.arange(len(labels)) if keep is None else keep
    labels, predicted = labels[keep], predicted[keep]
    counts = confusion.matrix(labels, predicted)
    event = st.plotly_chart(shared_figure(training.clickable_confusion, counts), key=f"{key}-confusion",
                            on_select="rerun", selection_mode="points", config=CHART_CONFIG)
    cell = _picked(f"{key}-confusion", event["selection"]["points"], counts)
    if cell is None:
        st.caption("Click a cell to see its test images: the diagonal holds the right answers, every other "
                   "cell one kind of mistake.")
        return
    found = keep[confusion.members(labels, predicted, cell)]
    if not len(found):
        st.info(f"**Empty cell** ({cell.words}): {model_name} read no test image this way.",
                icon=":material/check_circle:")
        return
    shown = found[:MAX_SHOWN]
    more = f", the first {len(shown)} shown" if len(shown) < len(found) else ""
    noun = "test image" if len(found) == 1 else "test images"
    st.markdown(f"**{len(found):,} {noun}**, {cell.words}{more}; caption: position in the test set.")
    st.image([upscale(images[i], 2) for i in shown], caption=[f"#{i}" for i in shown],
             alt=[f"test image #{i}, {cell.words}" for i in shown])
    pick, send = st.columns([3, 2], vertical_alignment="bottom")
    position = pick.selectbox("Image to look inside", [int(i) for i in shown], key=f"{key}-pick",
                              format_func=lambda i: f"test image #{i}")
    if send.button("Open in the Layer visualizer", icon=":material/layers:", key=f"{key}-inspect",
                 help="Follows this image through every layer of the model you pick there."):
        open_in_layers(to_float(images[position]), model_name, truth=cell.true, position=position,
                       caption=f"test image #{position}, {cell.words} by {model_name}")


def _picked(chart_key: str, points: list[dict], counts: list[list[int]]) -> confusion.Cell | None:
    """The cell last picked on chart `chart_key`, kept in session state with the matrix it was picked on:
    an empty selection keeps it (kmnist.confusion.kept_pick); another matrix (model) starts with none."""
    memory, matrix = f"{chart_key}_picked", tuple(map(tuple, counts))
    kept = st.session_state.get(memory)
    cell = confusion.kept_pick(points, kept[1] if kept and kept[0] == matrix else None)
    st.session_state[memory] = (matrix, cell)
    return cell


@st.cache_data(show_spinner="Predicting the test set…", max_entries=16)
def _predicted(path: str, stamps: tuple, test_key: str, _classifier, _images) -> np.ndarray:
    return _classifier.probabilities(to_model_input(_images)).argmax(axis=1)


def model_results(entry: store.ModelEntry, data, key: str) -> None:
    """The clickable confusion matrix of a saved model on this copy of the test set (predicted here, once)."""
    classifier = get_classifier(entry)
    if classifier is None:
        return
    provenance = data.provenance
    predicted = _predicted(str(entry.path), model_stamps(entry.path), data_key(data, "test"), classifier,
                           data.x_test)
    counted = unseen_test(entry.card, data)
    if not len(counted.keep):
        st.warning(f"{entry.name} trained or validated on every test image of {provenance.name}: no fair "
                   "figure can be given on this copy.", icon=":material/warning:")
        return
    right = float(np.mean(predicted[counted.keep] == data.y_test[counted.keep]))
    st.caption(f"{entry.name}: {right:.2%} right {counted.line(entry.name)} (folder {provenance.name}; "
               f"predicted by {classifier.engine}).")
    confusion_explorer(data.y_test, predicted, data.x_test, key, entry.name, counted.keep)
