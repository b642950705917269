"""KMNIST Studio's one package, in layers (pyproject.toml lists them); Streamlit only in kmnist.ui."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TensorFlow's start-up chatter out of the UI

__version__ = "0.1.0"
