"""Keras in the server: imported in the background while no page runs, and its state kept across script
runs (Streamlit's reset of it after every run, switched off)."""

from __future__ import annotations

import contextlib
import importlib
import sys
import threading
import time

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
            importer("keras")
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
