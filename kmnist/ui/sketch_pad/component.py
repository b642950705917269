"""The Sketch pad as a Streamlit component: the page draws, prepares and classifies in the browser.

The page (assets/) runs the model's ONNX twin with onnxruntime-web, so a prediction never waits for the
server. The app serves every file it needs: our JavaScript, the vendored runtime (see vendor.py) and the
model, all gzipped files the server sends as they are and the browser keeps under their sha256.
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import streamlit as st
import streamlit.components.v1 as components

from kmnist.data.pixels import IMAGE_SIDE
from kmnist.drawing import pad_facts
from kmnist.network.architectures import POOLING_WORDS
from kmnist.registry.atomic import atomic_write
from kmnist.registry.errors import ModelError
from kmnist.registry.hashing import content_sha256
from kmnist.registry.inference import verified_onnx
from kmnist.registry.store import ModelEntry, read_card
from kmnist.ui import keys
from kmnist.ui.component_protocol import class_names
from kmnist.ui.navigation import open_in_layers
from kmnist.ui.resources import model_stamps
from kmnist.ui.sketch_pad.vendor import ASSETS, served_files

BROWSER, SERVER = "In your browser", "On the server"  # where the model runs, as the page offers it
MODELS = ASSETS / "models"  # a cache of gzipped ONNX twins named by their sha256 (not in git)
KEY = "sketch_pad"          # the component's key: its last message is st.session_state[KEY]

_component = components.declare_component("sketch_pad", path=str(ASSETS))


@dataclass(frozen=True)
class Twin:
    """What the page needs to run a model's verified ONNX twin."""

    name: str
    path: Path
    sha256: str
    outputs: tuple[str, ...]  # probabilities, first conv maps, first pooling maps
    pooling: str
    channels: tuple[int | None, int | None] = (None, None)  # maps of the first conv and the first pooling


@st.cache_data(show_spinner=False, max_entries=32)
def _verified(model_path: str, stamps: tuple) -> tuple[Twin | None, str | None]:
    """Checked once per version of the files (checking loads the twin in ONNX Runtime)."""
    path = Path(model_path)
    try:
        file = verified_onnx(path)
    except ModelError as problem:
        return None, str(problem)
    card = read_card(path)
    outputs = tuple(output.name for output in card.onnx.outputs)
    channels = tuple(output.shape[-1] if output.shape else None for output in card.onnx.outputs[1:3])
    return Twin(path.stem, file.path, file.sha256, outputs, card.config.pooling, channels), None


def browser_twin(entry: ModelEntry) -> tuple[Twin | None, str | None]:
    """The entry's twin for the browser, or None and why the server must classify instead."""
    if failed := st.session_state.get(keys.BROWSER_FAILED):
        return None, f"the model cannot run in this browser ({failed})"
    twin, why_not = _verified(str(entry.path), model_stamps(entry.path))
    if twin is not None:
        try:
            served_model(twin.path, twin.sha256)
        except (ModelError, OSError) as problem:  # e.g. a read-only install: the server classifies

            return None, f"the model could not be served to the browser ({problem})"
    return twin, why_not


def served_model(onnx_path: Path, sha256: str) -> str:
    """The URL (relative to the component's page) of the model's ONNX twin, gzipped once into MODELS."""
    name = f"{sha256}.onnx.gz"
    target = MODELS / name
    if not target.exists():
        content = Path(onnx_path).read_bytes()
        if content_sha256(content) != sha256:
            raise ModelError(f"{Path(onnx_path).name} changed since it was checked; reload the page")
        MODELS.mkdir(exist_ok=True)
        packed = gzip.compress(content, compresslevel=9, mtime=0)
        atomic_write(target, lambda tmp: Path(tmp).write_bytes(packed))
    return f"models/{name}"


def _received() -> None:
    """The page's messages (a callback, before the rerun): Look inside (its drawing, opened by the rerun:
    a callback cannot switch pages), or "this browser cannot"."""
    message = st.session_state.get(KEY) or {}
    if message.get("event") == "look_inside":
        st.session_state[keys.LOOK_INSIDE] = np.asarray(message["image"], "float32").reshape(IMAGE_SIDE,
                                                                                            IMAGE_SIDE)
    elif message.get("event") == "fallback":
        st.session_state[keys.BROWSER_FAILED] = message.get("reason") or "unknown reason"


def pad_args(twin: Twin) -> dict:
    """The component's arguments: the model and runtime to load, the class names, the pooling caption, and
    kmnist.drawing's facts (sizes, brush, thresholds, messages), which the page states nowhere else."""
    model = {"name": twin.name, "url": served_model(twin.path, twin.sha256), "sha256": twin.sha256,
             "outputs": list(twin.outputs)}
    return {"model": model, "vendor": served_files(), "classes": class_names(),
            "captions": {"conv": CONV_CAPTION, "pool": pooling_caption(twin.pooling, twin.channels)},
            "drawing": pad_facts()}


CONV_CAPTION = ("Each filter slides a small window over the input; a map is bright where its filter's "
                "pattern (an edge, a stroke end, a curve) appears in your drawing.")


def pooling_caption(pooling: str, channels: tuple[int | None, int | None]) -> str:
    """What the pad's pooling maps show (`channels`: how many maps the first conv and the first pooling
    give); where a second convolution (not drawn) comes between the maps the pad draws, it says so, so
    that pooling is not seen turning 16 maps into 32."""
    conv, pool = channels
    between = (f"A second convolution, not drawn here, first turns the {conv} maps above into {pool}; then "
               if conv and pool and conv != pool else "")
    kind = POOLING_WORDS[pooling]
    return (f"{between}{kind if between else kind.capitalize()} pooling keeps "
            f"{'the largest value' if pooling == 'max' else 'the mean'} of each 2x2 window, "
            "halving the size of every map: the pattern is still found, with less detail about where.")


def sketch_pad(twin: Twin) -> None:
    """Mount the Sketch pad on `twin`; Look inside then opens the Layer visualizer on the drawing."""
    _component(**pad_args(twin), key=KEY, default=None, on_change=_received)
    if (drawing := st.session_state.pop(keys.LOOK_INSIDE, None)) is not None:
        open_in_layers(drawing, twin.name)
