"""Stand-ins for kmnist.training.run.train that import no TensorFlow (see supervisor.TRAINER): a cluster
worker or training process that runs one starts in a second, not after the 6 s an import of TensorFlow
takes. A test names one as "tests.light_trainers:<name>"."""

import time
from pathlib import Path

import numpy as np

from kmnist.training.result import STOPPED_EMPTY, TrainResult

HOLD_LIMIT = 300.0  # seconds a held run waits for Stop; by then the test waiting on it has failed
FINISH_SECONDS = 3.0  # what slow_to_finish takes after Stop: more than the grace period its test sets


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


def slow_to_finish(config, data, out_path, listeners=(), stop_event=None, **kwargs):
    """Obeys Stop at once (its "end" record says training ended), then takes FINISH_SECONDS to test and
    save its best epoch, as the real trainer may on a busy machine; leaves NAME.training first."""
    Path(out_path).with_suffix(".training").touch()
    stop_event.wait(HOLD_LIMIT)
    for listener in listeners:
        listener({"kind": "end", "epochs_done": 1, "stopped": True, "elapsed": 1.0})
    time.sleep(FINISH_SECONDS)
    return TrainResult("stopped", f"{Path(out_path).name} kept", model_path=Path(out_path), model=ReadsTwo())


HELD_IN_EPOCH_1 = (1, 5)  # (epoch, batch) where a held run waits for Stop: nothing is saved there
HELD_IN_EPOCH_2 = (2, 3)  # there epoch 1's checkpoint is kept (by tests.fault_trainers' real ones)


def held(epoch: int, batch: int):
    """No training: the records a run sends up to batch `batch` of epoch `epoch` (made-up losses), then a
    wait for Stop, which saves nothing. For tests of what happens to a job while it trains."""

    def trainer(config, data, out_path, listeners=(), stop_event=None, **kwargs):
        steps = 8  # the batches of an epoch, whatever the config: only the position matters here

        def send(record):
            for listener in listeners:
                listener(record)

        send({"kind": "begin", "epochs": config.epochs, "steps": steps})
        started = time.perf_counter()
        for step in range(1, (epoch - 1) * steps + batch + 1):
            at_epoch, at_batch = divmod(step - 1, steps)
            send({"kind": "batch", "epoch": at_epoch + 1, "batch": at_batch + 1, "step": step, "loss": 1.0,
                  "batch_loss": 1.0, "accuracy": 0.5, "batch_accuracy": 0.5,
                  "elapsed": time.perf_counter() - started})
        stop_event.wait(HOLD_LIMIT)
        send({"kind": "end", "epochs_done": 0, "stopped": True, "elapsed": time.perf_counter() - started})
        return TrainResult(STOPPED_EMPTY, "A stand-in run: nothing was trained or saved.")

    return trainer


held_in_epoch_1 = held(*HELD_IN_EPOCH_1)
held_in_epoch_2 = held(*HELD_IN_EPOCH_2)
