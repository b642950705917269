"""Stand-ins for kmnist.training.run.train that run inside the training process (see supervisor.TRAINER).

A job trains in a child process, so a fault, or a pause at a known batch, must be planted there: a test
names one of these as "tests.fault_trainers:<name>" and the child imports it in place of the real trainer.
"""

import errno
import os
import time
from pathlib import Path

import keras
import numpy as np

from kmnist.training.run import TrainResult, train

HOLD_LIMIT = 300.0  # seconds a held batch waits for Stop; by then the test waiting on it has failed


def held_at(epoch: int | None, batch: int | None):
    """The real training, in which batch `batch` of epoch `epoch` waits for Stop (None: the last batch, the
    last epoch). The batch's record reaches the server first, so a test that sees it and presses Stop
    knows where the run ends: StopOnEvent ends training at that very batch."""

    def trainer(config, data, out_path, listeners=(), stop_event=None, **kwargs):
        steps = {}

        def hold(record):
            if record["kind"] == "begin":
                steps["run"] = record["steps"]
            elif (record["kind"] == "batch" and record["epoch"] == (epoch or config.epochs)
                  and record["batch"] == (batch or steps["run"])):
                stop_event.wait(HOLD_LIMIT)

        return train(config, data, out_path, listeners=[*listeners, hold], stop_event=stop_event, **kwargs)

    return trainer


HELD_IN_EPOCH_1 = (1, 5)
HELD_IN_EPOCH_2 = (2, 3)
held_in_epoch_1 = held_at(*HELD_IN_EPOCH_1)  # Stop there: no epoch has ended, nothing is saved
held_in_epoch_2 = held_at(*HELD_IN_EPOCH_2)  # Stop there: epoch 1's checkpoint is kept
until_stopped = held_at(None, None)          # trains for real, then waits at its last batch for Stop


class ReadsTwo:
    """A stand-in model that reads every image as class 2."""

    def predict(self, x, batch_size, verbose):
        return np.eye(10)[[2] * len(x)]


def instant(config, data, out_path, listeners=(), stop_event=None, **kwargs):
    """No training: one "begin" record, then a result that names `out_path` (no file) with a ReadsTwo."""
    for listener in listeners:
        listener({"kind": "begin", "epochs": config.epochs, "steps": 1})
    return TrainResult("complete", f"{Path(out_path).name} trained", model_path=Path(out_path),
                       model=ReadsTwo())


FINISH_SECONDS = 3.0  # what slow_to_finish takes after Stop: more than the grace period its test sets


def slow_to_finish(config, data, out_path, listeners=(), stop_event=None, **kwargs):
    """Obeys Stop at once (its "end" record says training ended), then takes FINISH_SECONDS to test and
    save its best epoch, as the real trainer may on a busy machine; leaves NAME.training first."""
    Path(out_path).with_suffix(".training").touch()
    stop_event.wait(HOLD_LIMIT)
    for listener in listeners:
        listener({"kind": "end", "epochs_done": 1, "stopped": True, "elapsed": 1.0})
    time.sleep(FINISH_SECONDS)
    return TrainResult("stopped", f"{Path(out_path).name} kept", model_path=Path(out_path), model=ReadsTwo())


def exits(*args, **kwargs):
    """The process ends at once, with status 3 and no last word (as a crash in native code would)."""
    os._exit(3)


def out_of_memory(*args, **kwargs):
    raise MemoryError("simulated: OOM when allocating tensor")


def full_disk(*args, **kwargs):
    """The real training, on a disk that fills up at the first save (a few bytes land, then ENOSPC)."""

    def save(self, filepath, *args, **kwargs):
        with open(filepath, "wb") as handle:
            handle.write(b"the first bytes of a model")
        raise OSError(errno.ENOSPC, "No space left on device")

    keras.Model.save = save
    return train(*args, **kwargs)


def deaf(config, data, out_path, **kwargs):
    """Never looks at Stop (a child stuck in a long step); leaves NAME.deaf beside its model path first,
    so a test knows the child is past start-up and inside the trainer."""
    Path(out_path).with_suffix(".deaf").touch()
    time.sleep(600)
