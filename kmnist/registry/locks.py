"""One lock per loaded model: a cached model is shared by every session, so its inference is guarded."""

from __future__ import annotations

import threading
import weakref

_model_locks: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

_model_locks_lock = threading.Lock()  # guards the table only, never held while a model runs or loads


def model_lock(model) -> threading.RLock:
    """The one lock of `model`: a cached model is shared by every session, so every caller that runs
    it (prediction, layer probes, Grad-CAM) holds this lock while it does."""
    with _model_locks_lock:
        return _model_locks.setdefault(model, threading.RLock())
