"""Keras in the server: imported in the background (in a pause, or at once for a page that needs it, which
shows the import's progress meanwhile), and its state kept across script runs (Streamlit's reset of it
after every run, switched off)."""

from __future__ import annotations

import contextlib
import importlib
import sys
import threading
import time

import streamlit as st
from streamlit.runtime.scriptrunner import script_runner

# Streamlit 1.67 ends every script run, fragment runs included, by calling keras.backend.clear_session()
# once Keras is imported (script_runner._clean_problem_modules): a full garbage collection that also drops
# TensorFlow's kernel cache and resets the Keras state that the models all sessions share still use. The
# app builds no models in the server (training runs in a child process), so it keeps that state; the rest
# of Streamlit's clean-up (matplotlib) stays. The README's Performance section has what this saves.


STREAMLIT_CLEAN_UP = script_runner._clean_problem_modules  # Streamlit's own, as imported (tests restore it)


def _clean_all_but_keras() -> None:
    """Streamlit's clean-up after a script run, without the Keras reset."""
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is not None:
        pyplot.close("all")


def keep_keras_state() -> None:
    """Stop Streamlit from resetting Keras after every script run (idempotent)."""
    script_runner._clean_problem_modules = _clean_all_but_keras


IDLE_SECONDS = 1.0  # how long no script may have run before Keras is imported in the background
_runs = {"active": 0, "ended": 0.0}  # script runs of app.py in progress, and when the last one ended
_runs_lock = threading.Lock()


@contextlib.contextmanager
def script_run():
    """Around each run of app.py: lets the background import (import_keras_when_idle) wait for a pause."""
    with _runs_lock:
        _runs["active"] += 1
    try:
        yield
    finally:
        with _runs_lock:
            _runs["active"] -= 1
            _runs["ended"] = time.monotonic()


def _import_when_idle(importer=importlib.import_module) -> None:
    while True:
        with _runs_lock:
            idle = not _runs["active"] and time.monotonic() - _runs["ended"] >= IDLE_SECONDS
        if idle:
            _import_keras(importer)
            return
        time.sleep(0.05)


_waiting = threading.Event()


def import_keras_when_idle() -> None:
    """Once per server: import Keras (5-7 s of TensorFlow start-up) in a thread of its own as soon as no
    page has run for IDLE_SECONDS, so that the first visit to a page that needs it (the Layer visualizer)
    finds it imported. Not while pages run: the import would slow them (measured: a Dataset explorer
    visited while it ran took 6.1 s instead of 1.9 s). A page that needs Keras sooner imports it itself."""
    if "keras" in sys.modules or _waiting.is_set():
        return
    _waiting.set()
    with _runs_lock:
        _runs["ended"] = time.monotonic()  # the first pause is counted from the first page's start
    threading.Thread(target=_import_when_idle, name="kmnist-import-keras", daemon=True).start()


def keras_imported() -> bool:
    """Whether Keras is imported in full (not half-way through, as while a background import runs)."""
    module = sys.modules.get("keras")
    return module is not None and not getattr(getattr(module, "__spec__", None), "_initializing", False)


_import = {"started": None, "error": None}  # when the server's import of Keras began, and how it failed
_import_lock = threading.Lock()


def _import_keras(importer=importlib.import_module) -> None:
    """Import Keras in this thread (in a pause, or at once for a page that needs it), noting when the
    import began and, if it fails, why: a page waiting for it shows both."""
    with _import_lock:
        if _import["started"] is None:
            _import["started"] = time.monotonic()
    try:
        importer("keras")
    except Exception as error:  # a broken installation: the page that waits says so
        _import["error"] = f"{type(error).__name__}: {error}"


def import_keras_now() -> float:
    """Import Keras in a thread at once, without waiting for a pause, unless an import has begun (in a
    pause, or for another page); returns when the import began (time.monotonic())."""
    with _import_lock:
        if _import["started"] is None:
            _import["started"] = time.monotonic()
            threading.Thread(target=_import_keras, name="kmnist-import-keras-now", daemon=True).start()
        return _import["started"]


TYPICAL_IMPORT_SECONDS = 8.0  # what the progress bar counts towards: 5-7 s on a quiet 2-core server
POLL_SECONDS = 0.5


def wait_for_keras(what: str) -> None:
    """For a page opened before Keras was imported: import it now, show how long it has taken, and rerun
    the page as soon as it is there (everything above this stays usable meanwhile)."""
    _keras_progress(what, import_keras_now())


@st.fragment(run_every=POLL_SECONDS)
def _keras_progress(what: str, started: float) -> None:
    if keras_imported():
        st.rerun()
    if _import["error"] is not None:
        st.error(f"**TensorFlow could not be loaded**, so {what} cannot be shown: {_import['error']}. "
                 "Reinstall the requirements (the README's first command) and restart the app.")
        return
    elapsed = time.monotonic() - started
    st.progress(min(0.95, elapsed / TYPICAL_IMPORT_SECONDS),
                text=f"Loading TensorFlow for {what}: {elapsed:.0f} s so far (once after the server starts; "
                     f"about {TYPICAL_IMPORT_SECONDS:.0f} s on a small server). The page fills in by itself.")
