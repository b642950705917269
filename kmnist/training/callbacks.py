"""Keras callbacks that stream training records to listeners, keep the best model and obey Stop."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable

import keras
import numpy as np

from kmnist.data.classes import NUM_CLASSES
from kmnist.data.pixels import to_uint8
from kmnist.evaluation.metrics import classification_metrics
from kmnist.inspect.probes import conv_filters
from kmnist.network.layers import layer_type

Listener = Callable[[dict], None]


log = logging.getLogger(__name__)


def strip_indices(labels: np.ndarray) -> list[int]:
    """The first image of each class in `labels`, in class order: the fixed strip a run is watched on."""
    labels = np.asarray(labels)
    return [int(np.flatnonzero(labels == k)[0]) for k in range(NUM_CLASSES) if (labels == k).any()]


def first_conv_filters(model: keras.Model) -> np.ndarray | None:
    """The kernels of the model's first Conv2D layer as (filters, k, k), or None when it has none."""
    first = next((layer.name for layer in model.layers if layer_type(layer) == "Conv2D"), None)
    return None if first is None else conv_filters(model, first)


class StreamingCallback(keras.callbacks.Callback):
    """Streams the training loss and accuracy after every batch and validation loss/accuracy/AUC after
    every epoch, with a "glimpse" inside the network: the predictions on a fixed strip of validation
    images (one per class, taken from the same prediction pass) and the first layer's filters.

    The validation metrics are computed here, from one prediction pass over `validation`
    (exact macro one-vs-rest ROC AUC via scikit-learn), and written into the epoch logs as
    ``val_loss``, ``val_accuracy`` and ``val_auc`` so that EarlyStopping and checkpoints that run
    after this callback can monitor them. Call ``fit`` without ``validation_data``.
    """

    def __init__(self, validation: tuple[np.ndarray, np.ndarray], listeners: Iterable[Listener] = (),
                 batch_size: int = 512, train_size: int | None = None):
        super().__init__()
        self.x_val, self.y_val = validation
        self.listeners = list(listeners)
        self.batch_size = batch_size
        self.train_size = train_size

    def emit(self, record: dict) -> None:
        for listener in self.listeners:
            try:
                listener(record)
            except Exception:  # a broken chart must never kill a training run
                log.exception("training listener %r failed on a %s record", listener,
                              record["kind"])

    def predict_validation(self) -> np.ndarray:
        """Class probabilities of the validation images, in inference mode.

        predict_on_batch reuses one compiled predict step (traced once per batch shape); model.predict
        builds a data adapter, iterator and callbacks on every call and cost 1.5-3x more per epoch here.
        """
        size = self.batch_size
        return np.concatenate([np.asarray(self.model.predict_on_batch(self.x_val[start:start + size]))
                               for start in range(0, len(self.x_val), size)])

    def on_train_begin(self, logs=None):
        self.started = time.perf_counter()
        self.epoch = 0
        self.epochs_done = 0
        self.steps = self.params.get("steps")
        self.strip = strip_indices(self.y_val)
        self.emit({"kind": "begin", "epochs": self.params.get("epochs"), "steps": self.steps,
                   "train_size": self.train_size, "val_size": len(self.y_val),
                   "strip_images": to_uint8(self.x_val[self.strip, ..., 0]),
                   "strip_labels": [int(self.y_val[i]) for i in self.strip],
                   "filters": first_conv_filters(self.model)})

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch + 1
        self.epoch_started = time.perf_counter()
        self.previous_total = 0.0
        self.previous_right = 0.0

    def on_train_batch_end(self, batch, logs=None):
        logs = logs or {}
        step = batch + 1
        running = float(logs.get("loss", np.nan))  # Keras reports the mean over the epoch so far
        accuracy = float(logs.get("accuracy", np.nan))  # likewise: this batch's is the change in the sum
        total, right = running * step, accuracy * step
        self.emit({"kind": "batch", "epoch": self.epoch, "batch": step,
                   "step": (self.epoch - 1) * (self.steps or 0) + step,
                   "loss": running, "batch_loss": total - self.previous_total,
                   "accuracy": accuracy, "batch_accuracy": right - self.previous_right,
                   "elapsed": time.perf_counter() - self.started})
        self.previous_total, self.previous_right = total, right

    def on_epoch_end(self, epoch, logs=None):
        logs = logs if logs is not None else {}
        record = {"kind": "epoch", "epoch": epoch + 1,
                  "seconds": time.perf_counter() - self.epoch_started,
                  **{key: float(logs[key]) for key in ("loss", "accuracy", "auc") if key in logs}}
        if self.model.stop_training:  # stopped mid-epoch from outside: no validation of a half epoch
            record["interrupted"] = True
        else:
            probabilities = self.predict_validation()
            scores = classification_metrics(self.y_val, probabilities)
            logs.update(val_loss=scores["loss"], val_accuracy=scores["accuracy"],
                        val_auc=scores["macro_auc"])
            record.update(val_loss=scores["loss"], val_accuracy=scores["accuracy"],
                          val_auc=scores["macro_auc"])
            self.epochs_done = epoch + 1
        record["elapsed"] = time.perf_counter() - self.started
        self.emit(record)
        if not record.get("interrupted"):
            shown = probabilities[self.strip]
            self.emit({"kind": "glimpse", "epoch": epoch + 1,
                       "predicted": shown.argmax(axis=1).tolist(), "confidence": shown.max(axis=1).tolist(),
                       "filters": first_conv_filters(self.model)})

    def on_train_end(self, logs=None):
        self.emit({"kind": "end", "epochs_done": self.epochs_done,
                   "stopped": bool(self.model.stop_training),
                   "elapsed": time.perf_counter() - self.started})


class StopOnEvent(keras.callbacks.Callback):
    """Ends training at the next batch once `event` (e.g. a threading.Event) is set."""

    def __init__(self, event):
        super().__init__()
        self.event = event
        self.stopped = False

    def on_train_batch_end(self, batch, logs=None):
        if self.event is not None and self.event.is_set():
            self.stopped = True
            self.model.stop_training = True


KEEP_BEST_BY = "val_accuracy"  # what "the best epoch" means: the highest validation accuracy


class BestCheckpoint(keras.callbacks.Callback):
    """Like ModelCheckpoint(save_best_only=True) on `monitor` (KEEP_BEST_BY), but `save(model, epoch,
    logs)` decides how to write (the training module writes atomically, with a card) and half epochs never
    count. An accuracy is better when higher, and a later epoch that ties the best wins: under a one-cycle
    schedule it has trained longer at a lower rate. A loss is better when strictly lower.

    Not val_loss by default: with label smoothing the validation loss mostly measures how far the model's
    confidence sits from the smoothed targets; it wandered by 30 % between late epochs whose accuracy
    stood still, so it picked a mid-run epoch."""

    def __init__(self, save: Callable[[keras.Model, int, dict], None], monitor: str = KEEP_BEST_BY):
        super().__init__()
        self.save = save
        self.monitor = monitor
        self.sign = -1.0 if "accuracy" in monitor or "auc" in monitor else 1.0  # compared as losses
        self.best = np.inf
        self.best_epoch = None

    def on_epoch_end(self, epoch, logs=None):
        value = (logs or {}).get(self.monitor)
        if value is None or not np.isfinite(value):
            return
        value = self.sign * value
        if value < self.best or (value == self.best and self.sign < 0):
            self.save(self.model, epoch + 1, dict(logs))  # raises on failure: then nothing counts
            self.best, self.best_epoch = float(value), epoch + 1
