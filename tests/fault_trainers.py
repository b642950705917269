"""Stand-ins for kmnist.training.run.train that run inside the training process (see supervisor.TRAINER).

A job trains in a child process, so a fault, or a pause at a known batch, must be planted there: a test
names one of these as "tests.fault_trainers:<name>" and the child imports it in place of the real trainer.
These import TensorFlow; tests.light_trainers has those that need none.
"""

import errno
import os
import time
from pathlib import Path

import keras

from kmnist.training.run import train
from tests.light_trainers import HELD_IN_EPOCH_1, HELD_IN_EPOCH_2, HOLD_LIMIT


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


held_in_epoch_1 = held_at(*HELD_IN_EPOCH_1)  # Stop there: no epoch has ended, nothing is saved
held_in_epoch_2 = held_at(*HELD_IN_EPOCH_2)  # Stop there: epoch 1's checkpoint is kept
until_stopped = held_at(None, None)          # trains for real, then waits at its last batch for Stop


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
