"""The Layer visualizer's input: a test image, the Sketch pad's last drawing, or a test image sent to it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import streamlit as st

from kmnist.data import explore
from kmnist.data.classes import CLASSES
from kmnist.data.pixels import to_float
from kmnist.evaluation.unseen import unseen_test
from kmnist.ui import keys

TEST, DRAWN, SENT = "Test image", "My drawing (Sketch pad)", "Picked test image"


@dataclass(frozen=True)
class LayerInput:
    """One image to follow through the network, what it is, and its true class (None for a drawing)."""

    image: np.ndarray  # (28, 28) float in [0, 1]
    truth: int | None
    caption: str
    note: str = ""     # where it came from, shown under the choice
    position: int | None = None  # its position in the test set (None for a drawing)


def sources(drawing, sent: dict | None) -> tuple[list[str], str]:
    """The inputs on offer (a test image always; the drawing and the sent image once they exist) and the
    one to open on: the one sent last, so the sent image unless the Sketch pad sent a drawing after it
    (`sent["drawing"]` is the drawing there was when the image was sent; see navigation.open_in_layers)."""
    offered = [TEST] + [DRAWN] * (drawing is not None) + [SENT] * (sent is not None)
    newest = (SENT if sent is not None and sent["drawing"] is drawing
              else DRAWN if drawing is not None else TEST)
    return offered, newest


def from_test_set(data, position: int) -> LayerInput:
    """Test image `position` of `data`, with its true class."""
    truth = int(data.y_test[position])
    return LayerInput(to_float(data.x_test[position]), truth,
                      f"test image #{position}, true class {CLASSES[truth].label}", position=position)


def from_drawing(drawing) -> LayerInput:
    return LayerInput(to_float(drawing), None, "your drawing, as the model sees it (28x28)",
                      "Shown: the last drawing sent from the Sketch pad (draw another one there).")


def from_sent(sent: dict) -> LayerInput:
    return LayerInput(sent["image"], sent["truth"], sent["caption"],
                      "Shown: the test image last opened from a confusion-matrix cell.", sent.get("position"))


def seen_note(card, data, position: int | None, model: str) -> str:
    """What a right answer on test image `position` is worth: nothing to add when `model` never saw it; a
    warning when its card says it trained or validated on it, or cannot tell."""
    if position is None:
        return ""
    counted = unseen_test(card, data)
    if not counted.known:
        return f"{model} may have trained on this image (its card or this copy cannot tell)."
    if position not in set(counted.keep.tolist()):
        return (f"{model} trained or validated on this image, so a right answer here proves little: pick a "
                "test image it never saw to judge it.")
    return ""


def choose_input(data) -> LayerInput:
    """The input picker (which source; for a test image its class and index) and the input it picks."""
    drawing, sent = st.session_state.get(keys.LAST_DRAWING), st.session_state.get(keys.INSPECT_IMAGE)
    offered, newest = sources(drawing, sent)
    source = st.radio("Input", offered, index=offered.index(newest), horizontal=True, key=keys.LAYERS_SOURCE,
                      help="Draw a character on the Sketch pad and press *Look inside*, or open a test image "
                           "from a confusion-matrix cell (Compare runs, Training), to study it here.")
    if source == TEST:
        by_class, by_index = st.columns(2)
        kana = by_class.selectbox("Class", CLASSES, format_func=lambda k: k.label, key="layers_class")
        members = explore.class_indices(data.y_test, [kana.index])
        last = len(members) - 1
        number = by_index.number_input(f"Index within the class (0-{last})", 0, last, 0, key="layers_index")
        return from_test_set(data, int(members[number]))
    chosen = from_drawing(drawing) if source == DRAWN else from_sent(sent)
    st.caption(chosen.note)
    return chosen
