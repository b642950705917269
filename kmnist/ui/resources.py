"""Cached data and models for the pages: loading once per server, the model picker, the provenance note."""

from __future__ import annotations

import uuid
from pathlib import Path

import streamlit as st

from kmnist.data import files as kdata
from kmnist.registry import inference, store
from kmnist.registry.errors import ModelError
from kmnist.ui import keys
from kmnist.ui.navigation import HOME


@st.cache_resource(show_spinner="Loading KMNIST…")
def _load_data(directory: str, stamp: tuple) -> kdata.KMNISTData:
    return kdata.load(directory)


def _stamp(directory: Path) -> tuple:
    """Changes when the files change, so a fixed or re-downloaded copy is picked up."""
    return tuple((p.name, p.stat().st_mtime_ns, p.stat().st_size)
                 for p in sorted(directory.glob("kmnist-*.npz")))


def get_data(stop: bool = True, link_home: bool = True) -> kdata.KMNISTData | None:
    """The cached data set, or (after showing the error and its fix) None / st.stop()."""
    directory = kdata.default_data_dir()
    try:
        return _load_data(str(directory), _stamp(directory) if directory.is_dir() else ())
    except kdata.DataError as error:
        st.error(f"**No usable KMNIST data.** {error}")
        if link_home:
            st.page_link(HOME.path, label="Go to Home to download it", icon=HOME.icon)
        if stop:
            st.stop()
        return None


def provenance_note(data: kdata.KMNISTData) -> None:
    """One line under a page title saying which copy of KMNIST is shown."""
    st.caption(f"{':material/verified:' if data.provenance.official else ':material/warning:'} "
               f"{data.provenance.summary}")


@st.cache_resource(show_spinner="Loading model…", max_entries=8)
def _load_model(path: str, stamp: tuple):
    return store.load_model(Path(path))


def get_model(entry: store.ModelEntry):
    """The cached, shared model of `entry` (never train it), or None after showing the error."""
    try:
        entry.path.stat()  # a missing file raises OSError: reported below
        return _load_model(str(entry.path), model_stamps(entry.path)[0])
    except (ModelError, OSError) as error:
        st.error(f"**Cannot use model {entry.name}.** {error}")
        return None


@st.cache_resource(show_spinner="Loading model…", max_entries=8)
def _load_classifier(path: str, stamps: tuple):
    try:
        return inference.onnx_classifier(Path(path))
    except ModelError as problem:  # Keras on the server's one cached copy, sharing its model lock
        return inference.KerasClassifier(_load_model(path, stamps[0]), str(problem))


def model_stamps(model_path: Path) -> tuple:
    """Changes whenever the model, its card or its ONNX twin changes on disk: a cache key."""
    return tuple((p.stat().st_mtime_ns, p.stat().st_size) if p.exists() else None
                 for p in (model_path, store.card_path(model_path), store.onnx_path(model_path)))


def get_classifier(entry: store.ModelEntry):
    """The cached, shared classifier of `entry` (ONNX Runtime on its verified twin, else Keras, see
    kmnist.registry.inference), or None after showing the error."""
    try:
        return _load_classifier(str(entry.path), model_stamps(entry.path))
    except (ModelError, OSError) as error:
        st.error(f"**Cannot use model {entry.name}.** {error}")
        return None


def model_picker(label: str = "Model", key: str | None = None,
                 wanted: str | None = None) -> store.ModelEntry | None:
    """A selectbox of the usable models in models_dir(), default model first; warns about the chosen
    one's problem, if any. `wanted` (a model's name, e.g. the one another page sent an image from) is
    chosen for the person where it exists; the selectbox needs a `key` for that."""
    entries = [e for e in store.list_models() if e.usable]
    if not entries:
        st.warning("No trained model yet: train one on the **Training** page "
                   "(or restore the shipped models in `models/`).")
        return None
    if key and (match := next((e for e in entries if e.name == wanted), None)):
        st.session_state[key] = match
    entry = st.selectbox(label, entries, key=key, format_func=lambda e: _model_label(e))
    if entry.problem:
        st.warning(f"{entry.name}: {entry.problem}")
    return entry


def _model_label(entry: store.ModelEntry) -> str:
    return entry.card.headline(entry.name) if entry.card else entry.name


def owner_id() -> str:
    """This browser session's private id (made on its first use): what makes it the owner of its jobs."""
    return st.session_state.setdefault(keys.OWNER_ID, uuid.uuid4().hex)
