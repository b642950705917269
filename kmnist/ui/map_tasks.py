"""The Dataset explorer's 2-D maps, computed in the background: each once per copy of the data, shared by
every session, never in a page's script run (the page side, with Streamlit, is kmnist.ui.maps).

A map costs seconds: the learned-features map imports Keras (TensorFlow), loads a model and runs it over
thousands of images; PCA and t-SNE fit thousands of points; the hover thumbnails' sprite sheets are drawn.
Done in the script run, this held a fresh server's first visit to the Dataset explorer for 11 s.

Here a MapWork (one per copy of the data) keeps a Task per map. The first request queues it; every later
request, from any session, gets the same Task (a lock makes sure it is queued once). One worker thread
computes the queued tasks in turn (the machine has two cores), each in a child process of its own
(ChildProcess, at a lower CPU priority): the child imports scikit-learn and TensorFlow, not the server,
whose pages would otherwise wait for the interpreter lock and could meet a library half imported by
the other thread (plotly looks pandas up in sys.modules). A Task keeps its progress and then its result
or its error, a sentence the page shows; nothing is lost in a thread. The child ends after IDLE_SECONDS
without work, so its memory goes back.

This module does not import Streamlit: the child process imports it to compute.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from functools import partial
from multiprocessing.connection import Connection
from pathlib import Path

import numpy as np

from kmnist.data import explore
from kmnist.inspect import features
from kmnist.pictures import sprites as sheets
from kmnist.registry import store
from kmnist.registry.errors import ModelError

WAITING = "waiting for another map to finish"
IDLE_SECONDS = 120.0  # a child with no map to compute for this long ends (TensorFlow holds memory)
CHILD_NICE = 10       # the child's lower CPU priority: pages opened meanwhile go first
# ... and one thread for its numerical libraries (BLAS, OpenMP, TensorFlow): the other core stays free for
# the server and the browser; TensorFlow's spinning thread pools took CPU from pages opened meanwhile.
CHILD_THREADS = {name: "1" for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                                        "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS")}
ROOT = Path(__file__).resolve().parents[2]  # the project folder, from which the child imports kmnist

Report = Callable[[float, str], None]  # report(fraction done 0..1, what is being done now)
Spec = Callable[[Report], object]      # a picklable computation: spec(report) -> its result

_log = logging.getLogger(__name__)


class MapError(Exception):
    """A computation failed; the message says why, for people."""


def describe(error: BaseException) -> str:
    """What went wrong, in a sentence: our own errors are written for people; others are named."""
    if isinstance(error, (MapError, ModelError, ValueError)):
        return str(error)
    return f"{type(error).__name__}: {error}"


class Task:
    """One map being computed: what it is, how far it has got, and then its result or its error. Written
    by the worker thread, read by any session."""

    def __init__(self, key: Hashable, label: str):
        self.key, self.label = key, label
        self.started: float | None = None
        self.ended: float | None = None
        self.fraction, self.stage = 0.0, WAITING
        self.result: object = None
        self.error: str | None = None
        self._done = threading.Event()

    @property
    def done(self) -> bool:
        return self._done.is_set()

    @property
    def failed(self) -> bool:
        return self.done and self.error is not None

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the task has finished (for tests and scripts; a page never waits): True if it has."""
        return self._done.wait(timeout)

    def report(self, fraction: float, stage: str) -> None:
        self.fraction, self.stage = min(max(float(fraction), 0.0), 1.0), stage

    def seconds(self) -> float:
        """How long it has been computing (0 while it waits for its turn), or took."""
        if self.started is None:
            return 0.0
        return (self.ended or time.monotonic()) - self.started

    def run(self, compute: Spec) -> None:
        self.started = time.monotonic()
        self.report(0.0, "starting")
        try:
            self.result = compute(self.report)
        except Exception as error:  # kept for the page to show
            _log.warning("computing the %s failed", self.label, exc_info=True)
            self.error = describe(error)
        finally:
            self.ended = time.monotonic()
            self._done.set()


class InThread:
    """Computes in the worker thread itself (tests use it to run stand-in computations)."""

    def run(self, spec: Spec, report: Report) -> object:
        return spec(report)

    def close(self) -> None:
        pass


class ChildProcess:
    """Computes in a child process (started on first use, ended by close() or when it fails), which sends
    its progress, then its result or why it failed, over a socket."""

    def __init__(self):
        self._process: subprocess.Popen | None = None
        self._connection: Connection | None = None

    def _start(self) -> None:
        ours, theirs = socket.socketpair()
        with ours, theirs:  # the child keeps its own copy of `theirs`
            # TensorFlow's start-up notes: errors only; settings the server was given win
            environment = {"TF_CPP_MIN_LOG_LEVEL": "2", **CHILD_THREADS} | os.environ
            self._process = subprocess.Popen(
                [sys.executable, "-c", "import sys; from kmnist.ui.map_tasks import child_main; "
                                       "child_main(int(sys.argv[1]))", str(theirs.fileno())],
                cwd=ROOT, env=environment, stdin=subprocess.DEVNULL, pass_fds=(theirs.fileno(),))
            self._connection = Connection(ours.detach())

    def run(self, spec: Spec, report: Report) -> object:
        if self._process is None:
            self._start()
        try:
            self._connection.send(spec)
            while True:
                if not self._connection.poll(1.0):
                    if self._process.poll() is not None:
                        raise EOFError
                    continue
                kind, payload = self._connection.recv()
                if kind == "progress":
                    report(*payload)
                elif kind == "result":
                    return payload
                else:
                    raise MapError(payload)
        except (EOFError, OSError) as error:
            status = self.close()
            raise MapError(f"the process computing the maps ended unexpectedly (exit status {status}); "
                           "try again") from error

    def close(self) -> int | None:
        """End the child (it ends by itself when its socket closes); its exit status, if it had one."""
        connection, process, self._connection, self._process = self._connection, self._process, None, None
        if connection is not None:
            connection.close()
        if process is None:
            return None
        try:
            return process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            return process.wait()


RUNNER: Callable[[], InThread | ChildProcess] = ChildProcess  # how the worker computes (tests swap it)


def child_main(descriptor: int) -> None:
    """The child process: compute each spec sent over the socket `descriptor`, reporting progress, until
    the server closes it."""
    with contextlib.suppress(AttributeError, OSError):
        os.nice(CHILD_NICE)
    connection = Connection(descriptor)
    while True:
        try:
            spec = connection.recv()
        except (EOFError, OSError):
            return
        except Exception as error:  # sent, but it cannot be read here (e.g. its function is not importable)
            connection.send(("error", f"the computation could not be read: {describe(error)}"))
            continue
        try:
            result = spec(lambda fraction, stage: connection.send(("progress", (fraction, stage))))
        except Exception as error:
            connection.send(("error", describe(error)))
        else:
            connection.send(("result", result))


class MapWork:
    """The maps of one copy of the data: each computed once, in the order asked, by one background thread."""

    def __init__(self, name: str = ""):
        self.name = name
        self._lock = threading.Lock()  # guards _tasks and _worker: a map is never queued twice
        self._tasks: dict[Hashable, Task] = {}
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._worker: threading.Thread | None = None

    def request(self, key: Hashable, spec: Spec, label: str) -> Task:
        """The task of `key`: queued to compute `spec` on the first request, the same task ever after."""
        with self._lock:
            task = self._tasks.get(key)
            if task is None:
                task = self._tasks[key] = Task(key, label)
                self._queue.put((task, spec))
                if self._worker is None:
                    self._worker = threading.Thread(target=self._work, name=f"kmnist-maps-{self.name}",
                                                    daemon=True)
                    self._worker.start()
            return task

    def get(self, key: Hashable) -> Task | None:
        """The task of `key` if someone asked for it already (queued, computing or finished), else None."""
        with self._lock:
            return self._tasks.get(key)

    def forget(self, key: Hashable) -> None:
        """Drop the finished task of `key` (a failed one, say), so that the next request computes it anew."""
        with self._lock:
            if (task := self._tasks.get(key)) is not None and task.done:
                del self._tasks[key]

    def _work(self) -> None:
        runner = None
        while True:
            try:
                task, spec = self._queue.get(timeout=IDLE_SECONDS)
            except queue.Empty:
                if runner is not None:
                    runner.close()
                    runner = None
                continue
            if runner is None:
                runner = RUNNER()
            task.run(partial(runner.run, spec))


# --- What the Dataset explorer computes ---------------------------------------------------------------

def _scaled(report: Report, low: float, high: float) -> Report:
    return lambda fraction, stage: report(low + (high - low) * fraction, stage)


def pixel_map(images: np.ndarray, labels: np.ndarray, method: str, size: int | None,
              sprites: tuple[Path, str] | None = None) -> Spec:
    """A split's map of its pixels (an explore.Map2D). With `sprites` (folder, sprite key), the split's
    sprite sheets for the hover thumbnails are written there too, if missing; a failure there is left to
    the page, which tries again and says why (kmnist.ui.map_hover.component)."""
    return partial(_pixel_map, images, labels, method, size, sprites)


def _pixel_map(images, labels, method, size, sprites, report: Report) -> explore.Map2D:
    mapped = explore.map_2d(images, labels, method, size, progress=_scaled(report, 0.0, 0.9))
    if sprites is not None:
        report(0.9, "drawing the hover thumbnails")
        with contextlib.suppress(Exception):
            sheets.write_sheets(images, *sprites)
    return mapped


@dataclass(frozen=True)
class LearnedMap:
    """A map of a model's learned features, with the layer they came from and its number of values."""

    map: explore.Map2D
    layer: str
    units: int


def learned_map(model_path: Path, images: np.ndarray, labels: np.ndarray, method: str,
                size: int | None) -> Spec:
    """A split's map of the learned features of the model at `model_path` (a LearnedMap)."""
    return partial(_learned_map, str(model_path), images, labels, method, size)


def _learned_map(model_path, images, labels, method, size, report: Report) -> LearnedMap:
    report(0.0, "loading Keras and the model")
    model = store.load_model(Path(model_path))
    layer = features.feature_layer(model)  # a model without one: ValueError with the reason
    positions = explore.map_positions(labels, method, size)
    report(0.4, f"the model's features of {len(positions):,} images")
    learned = features.learned_features(model, images[positions])
    mapped = explore.map_2d(learned, labels, method, size, progress=_scaled(report, 0.6, 1.0))
    return LearnedMap(mapped, layer, learned.shape[1])
