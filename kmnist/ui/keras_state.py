"""Keras's state kept across script runs: Streamlit's reset of it after every run, switched off."""

from __future__ import annotations

import sys

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
