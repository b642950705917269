"""The local executor: each job trains in a child process of its own, watched by a thread in the server.

The child sends every streaming record, tagged with its run's name, each run's result and a last word
("done"/"failed") over a pipe. Children are forked by multiprocessing's fork server, which imported the
trainer once (PRELOAD): a job trains about a second after Start instead of after the 5-7 s an import of
TensorFlow takes. The fork server has run no TensorFlow op; the web server, with its threads, never
forks. Each child takes the server's environment as it is when the job starts, as a spawned one would.
The watcher hands each message to the job (kmnist.jobs.job) and ends the job when the child has ended,
whatever way it ended. Stop is an event the child's trainer checks at every batch; a child whose training
has not ended within STOP_GRACE seconds of Stop is terminated, then killed (StopClock).
"""

from __future__ import annotations

import contextlib
import importlib
import multiprocessing
import multiprocessing.connection
import multiprocessing.forkserver
import os
import sys
import threading
import time
import types
from dataclasses import replace
from functools import partial
from pathlib import Path

from kmnist.evaluation.metrics import predict_classes
from kmnist.jobs import wording
from kmnist.registry.store import model_path

STOP_GRACE = 20.0   # seconds a run has to end its training after Stop (it does at the next batch)
CHILD_NICE = 19     # the lowest CPU priority: the web server's pages stay responsive while a model trains
TRAINER_ENV = "KMNIST_TRAINER"  # a server's stand-in trainer, for the browser tests (tests/fault_trainers.py)
# What the child runs for each run, "module:function" (tests swap it, or name one in KMNIST_TRAINER).
TRAINER = os.environ.get(TRAINER_ENV) or "kmnist.training.run:train"
PRELOAD = ["kmnist.training.run"]  # what the fork server imports once, before it forks any child


def _context():
    """Multiprocessing's fork server, told what to preload (it takes effect when the server starts)."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOAD)
    return context


def warm() -> None:
    """Start the fork server now (it imports TensorFlow in its own process), so the first Start is quick."""
    _context()
    with _bare_main():
        multiprocessing.forkserver.ensure_running()


@contextlib.contextmanager
def _bare_main():
    """Multiprocessing re-runs the parent's `__main__` in each child it starts. In a Streamlit server
    that is the script being run (app.py, or a page under AppTest), which a child must not draw: seconds
    of work, and a page run without a browser. An empty `__main__` while a child is launched spares it.
    (Streamlit sets `__main__` afresh for each script run and never reads it back.)"""
    with _MAIN_LOCK:
        script = sys.modules["__main__"]
        sys.modules["__main__"] = types.ModuleType("__main__")
        try:
            yield
        finally:
            sys.modules["__main__"] = script


_MAIN_LOCK = threading.Lock()


class StopClock:
    """Whether a Stop is overdue, for either executor. The grace period covers training, which Stop ends
    at the next batch: once a run's training has ended (its "end" record), testing, saving and converting
    its best epoch take what they take (on a busy machine, more than the grace period: a stopped run
    terminated then lost its model). A run that begins after Stop was asked gets the full period."""

    def __init__(self):
        self.asked: float | None = None
        self.finishing = False

    def ask(self) -> None:
        if self.asked is None:
            self.asked = time.monotonic()

    def saw(self, kind: str, payload) -> None:
        """Follow the training process's messages: a run begins, or its training ends."""
        if kind == "run":
            self.finishing = False
            if self.asked is not None:
                self.asked = time.monotonic()
        elif kind == "record" and payload.get("kind") == "end":
            self.finishing = True

    def overdue(self) -> float:
        """Seconds since the grace period ran out (0 if it has not, or if no training is going on)."""
        if self.asked is None or self.finishing:
            return 0.0
        return max(0.0, time.monotonic() - self.asked - STOP_GRACE)


class ChildProcess:
    """Runs one job's runs in a child process and reports to the job: `job.keep(kind, index, payload)`
    for each message and `job.finish(outcome, detail)` once, when the child has ended."""

    def __init__(self, job):
        self.job = job
        self._process = None
        self._stop = None
        self._clock = StopClock()

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def start(self) -> bool:
        """Start the child and its watcher; False, and the job FAILED, if the child cannot start."""
        context = _context()
        job, writer = self.job, None
        try:
            self._stop = context.Event()
            if self._clock.asked is not None:  # Stop came while the job was being handed over
                self._stop.set()
            reader, writer = context.Pipe(duplex=False)
            self._process = context.Process(
                target=child_main,
                args=(TRAINER, job.runs, job.data, job.folder, writer, self._stop, dict(os.environ)),
                name=f"kmnist-train-{job.runs[0].name}", daemon=True)
            with _bare_main():
                self._process.start()
        except Exception as error:  # out of processes, memory or files, arguments that do not pickle...
            self._process = None
            if writer is not None:
                reader.close()
            job.finish("failed", wording.not_started(error))
            return False
        finally:
            if writer is not None:
                writer.close()  # the child holds the only write end: its death reads as end-of-file here
        threading.Thread(target=self._watch, args=(reader,), name=f"kmnist-watch-{job.number}",
                         daemon=True).start()
        return True

    def stop(self) -> None:
        """Ask the child to stop at its next batch; it is ended if it has not within STOP_GRACE s."""
        self._clock.ask()
        if self._stop is not None:  # else start() sets it as soon as it exists
            self._stop.set()

    def _watch(self, reader) -> None:
        """Keep what the child sends until its last word or its death; always end the job."""
        outcome, detail, terminated, killed = None, None, False, False
        try:
            while outcome is None:
                ready = multiprocessing.connection.wait([reader, self._process.sentinel], timeout=0.2)
                if reader in ready:
                    try:
                        message = reader.recv()
                    except (EOFError, OSError):  # the child died, perhaps in the middle of a message
                        break
                    self._clock.saw(message[0], message[2])
                    outcome, detail = self.job.keep(*message)
                elif ready:  # only the process sentinel: it ended; read what it managed to send
                    while outcome is None and reader.poll():
                        outcome, detail = self.job.keep(*reader.recv())
                    break
                overdue = self._clock.overdue() if outcome is None else 0.0  # Stop not answered in time?
                if overdue > 0:
                    if not terminated:
                        self._process.terminate()  # the checkpoints it saved stay
                        terminated = True
                    elif overdue > 10 and not killed:
                        self._process.kill()
                        killed = True
        except Exception as error:  # never leave a job running in the server's eyes
            outcome, detail = "failed", wording.describe_failure(error)
        finally:
            reader.close()
            self._process.join(30)
            if self._process.is_alive():
                self._process.kill()
                self._process.join(10)
            if outcome is None:
                outcome, detail = (("stopped", wording.ended_after_stop(STOP_GRACE)) if terminated else
                                   ("failed", wording.death_message(self._process.exitcode)))
            self.job.finish(outcome, detail)


def _send(messages, name: str, record: dict) -> None:
    messages.send(("record", None, {**record, "run": name}))


def child_main(trainer_path: str, runs, data, folder: Path, messages, stop, environment=None) -> None:
    """The child process: train each run, sending records, reports and a last word ("done"/"failed").
    `environment`: the server's environment when the job started (the fork server's may be older)."""
    if environment is not None:
        os.environ.clear()
        os.environ.update(environment)
    with contextlib.suppress(AttributeError, OSError):  # no nice() here: train at normal priority
        os.nice(CHILD_NICE)
    try:
        module, name = trainer_path.split(":")
        trainer = getattr(importlib.import_module(module), name)
        for index, run in enumerate(runs):
            if stop.is_set():
                break
            messages.send(("run", index, None))
            result = trainer(run.config, data, model_path(run.name, folder),
                             listeners=[partial(_send, messages, run.name)], stop_event=stop)
            predicted = predict_classes(result.model, data.x_test) if result.model is not None else None
            messages.send(("report", index, (replace(result, model=None), predicted)))
        messages.send(("done", None, None))
    except BaseException as error:  # the server must learn what happened, in words
        messages.send(("failed", None, wording.describe_failure(error)))
