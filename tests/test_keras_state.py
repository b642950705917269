"""The app keeps Keras's state across script runs (Streamlit's own reset of it after every run is off),
and imports Keras in a pause between pages."""

import sys
import threading
import time

import keras
from streamlit.runtime.scriptrunner import script_runner
from streamlit.testing.v1 import AppTest

from kmnist.ui import keras_state
from kmnist.ui.keras_state import STREAMLIT_CLEAN_UP, keep_keras_state

SCRIPT = "import streamlit as st\nst.write('a run')"


def test_streamlit_resets_keras_after_a_run_until_the_app_keeps_its_state(monkeypatch):
    resets = []
    monkeypatch.setattr(keras.backend, "clear_session", lambda *args, **kwargs: resets.append(1))
    monkeypatch.setattr(script_runner, "_clean_problem_modules", STREAMLIT_CLEAN_UP)  # as Streamlit ships it
    AppTest.from_string(SCRIPT).run()
    assert resets == [1]  # Streamlit's clean-up: one reset per script run
    keep_keras_state()
    keep_keras_state()  # idempotent
    AppTest.from_string(SCRIPT).run().run()
    assert resets == [1]  # two more runs, no more resets


def test_the_app_keeps_keras_state_from_its_first_run(monkeypatch):
    resets = []
    monkeypatch.setattr(keras.backend, "clear_session", lambda *args, **kwargs: resets.append(1))
    monkeypatch.setattr(script_runner, "_clean_problem_modules", STREAMLIT_CLEAN_UP)  # as Streamlit ships it
    app = AppTest.from_file("../app.py", default_timeout=120).run()
    assert not app.exception and resets == []


def test_keras_is_imported_in_a_pause_between_pages_never_while_one_runs(monkeypatch):
    monkeypatch.setattr(keras_state, "IDLE_SECONDS", 0.3)
    imported = []
    with keras_state.script_run():  # a page is running
        waiting = threading.Thread(target=keras_state._import_when_idle,
                                   args=(lambda name: imported.append((name, time.monotonic())),))
        waiting.start()
        time.sleep(0.6)
        assert not imported
    ended = time.monotonic()
    waiting.join(5)
    [(name, at)] = imported
    assert name == "keras" and at - ended >= 0.3  # a whole pause after the page ended


def test_keras_counts_as_imported_only_once_its_import_has_finished(monkeypatch):
    from types import ModuleType, SimpleNamespace

    half_way = ModuleType("keras")
    half_way.__spec__ = SimpleNamespace(_initializing=True)  # as Python marks a module being imported
    monkeypatch.setitem(sys.modules, "keras", half_way)
    assert not keras_state.keras_imported()
    half_way.__spec__._initializing = False
    assert keras_state.keras_imported()
    monkeypatch.delitem(sys.modules, "keras")
    assert not keras_state.keras_imported()
