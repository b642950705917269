"""Background training jobs: one per server process, trained in a worker thread, watched by any session.

A job trains one or more runs in sequence (the pooling page trains a max/avg pair that differ only in
pooling). Every streaming record is kept, tagged with its run's name, so any page can redraw the live
charts from ``current().snapshot()`` at any time; the job itself never touches the UI.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from types import MappingProxyType

import numpy as np

from kmnist.model import POOLINGS
from kmnist.training import TrainConfig, TrainResult

RUNNING, STOPPING, FINISHED, FAILED, STOPPED = "running", "stopping", "finished", "failed", "stopped"
ACTIVE = (RUNNING, STOPPING)


class JobBusy(RuntimeError):
    """Another training job is running; the message says whose and what."""


class JobError(ValueError):
    """A job that cannot start; `problems` lists each reason with its fix."""

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = list(problems)


@dataclass(frozen=True)
class Run:
    """One model to train: its name in the models folder and its hyperparameters."""

    name: str
    config: TrainConfig


@dataclass(frozen=True)
class RunReport:
    """What a finished run left: the TrainResult and the best model's test-set predictions, with the
    labels and images they were made on (so a view never pairs them with another copy of the data)."""

    name: str
    result: TrainResult
    predicted: np.ndarray | None = None  # predicted class per test image (None when no model was kept)
    labels: np.ndarray | None = None     # the true class of each of those test images
    images: np.ndarray | None = None     # the test images themselves, uint8 (N, 28, 28)

    @property
    def saved(self) -> bool:
        return self.result.model_path is not None


@dataclass(frozen=True)
class Progress:
    run_index: int  # 1-based index of the run being trained
    runs: int
    epoch: int
    epochs: int
    batch: int
    steps: int
    fraction: float  # of the whole job, 0..1
    elapsed: float
    eta: float | None  # seconds left, None until the first batch

    @property
    def text(self) -> str:
        run = f"run {self.run_index}/{self.runs} · " if self.runs > 1 else ""
        if not self.steps or not self.epoch:
            return f"{run}preparing data and building the model… · {format_seconds(self.elapsed)} elapsed"
        if self.batch == self.steps and self.epoch == self.epochs:
            eta = "testing the best epoch on the test set…"
        elif self.eta is None:
            eta = "estimating…"
        else:
            eta = f"about {format_seconds(self.eta)} left"
        return (f"{run}epoch {self.epoch}/{self.epochs} · batch {self.batch}/{self.steps} · "
                f"{format_seconds(self.elapsed)} elapsed · {eta}")


@dataclass(frozen=True)
class Snapshot:
    """An immutable copy of a job for rendering: nothing in it changes while the worker trains."""

    runs: tuple[Run, ...]
    owner: str
    started: float  # time.time() at start
    state: str
    records: tuple[Mapping, ...]  # read-only StreamingCallback records, each tagged with its "run"
    reports: tuple[RunReport, ...]
    error: str | None
    progress: Progress
    current_run: str | None

    @property
    def active(self) -> bool:
        return self.state in ACTIVE

    @property
    def names(self) -> list[str]:
        return [run.name for run in self.runs]

    def report(self, name: str) -> RunReport | None:
        return next((r for r in self.reports if r.name == name), None)


def format_seconds(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    minutes, seconds = divmod(seconds, 60)
    return f"{minutes} min {seconds:02d} s" if minutes else f"{seconds} s"


class Job:
    """Trains `runs` one after another in a daemon thread; thread-safe to watch from any session."""

    def __init__(self, runs: list[Run], owner: str, data, folder: Path, pair: bool = False):
        self.runs = tuple(runs)
        self.pair = pair
        self.owner = owner
        self.data = data
        self.folder = Path(folder)
        self.started = time.time()
        self._clock = time.perf_counter()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._records: list[Mapping] = []
        self._reports: list[RunReport] = []
        self._state = RUNNING
        self._error: str | None = None
        self._run_index = 0
        self._shape = {"epochs": runs[0].config.epochs, "steps": 0}
        self._position = {"epoch": 0, "batch": 0}
        self._thread = threading.Thread(target=self._work, name=f"kmnist-train-{runs[0].name}",
                                        daemon=True)

    # -- control -------------------------------------------------------------------------------------
    def start(self) -> Job:
        self._thread.start()
        return self

    def stop(self) -> None:
        """Ask training to end at the next batch; the best checkpoint so far is kept."""
        with self._lock:
            if self._state == RUNNING:
                self._state = STOPPING
        self._stop.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the worker ends (True) or `timeout` seconds pass (False)."""
        self._thread.join(timeout)
        return not self._thread.is_alive()

    @property
    def state(self) -> str:
        with self._lock:
            return self._state

    # -- the worker ----------------------------------------------------------------------------------
    def _work(self) -> None:
        from kmnist.metrics import predict_classes
        from kmnist.training import train

        try:
            for index, run in enumerate(self.runs):
                if self._stop.is_set():
                    break
                with self._lock:
                    self._run_index = index
                    self._shape = {"epochs": run.config.epochs, "steps": 0}
                    self._position = {"epoch": 0, "batch": 0}
                listener = self._listener(run.name)
                result = train(run.config, self.data, self.folder / f"{run.name}.keras",
                               listeners=[listener], stop_event=self._stop)
                predicted = (predict_classes(result.model, self.data.x_test)
                             if result.model is not None else None)
                with self._lock:
                    self._reports.append(RunReport(run.name, result, predicted, self.data.y_test,
                                                   self.data.x_test))
            final = STOPPED if self._stop.is_set() else FINISHED
            error = None
        except Exception as exception:  # the app must stay usable: keep a message, not a traceback
            final, error = FAILED, describe_failure(exception)
        with self._lock:
            self._state, self._error = final, error

    def _listener(self, name: str):
        def listen(record: dict) -> None:
            with self._lock:
                self._records.append(MappingProxyType({**record, "run": name}))
                if record["kind"] == "begin":
                    self._shape = {"epochs": record["epochs"] or 0, "steps": record["steps"] or 0}
                elif record["kind"] == "batch":
                    self._position = {"epoch": record["epoch"], "batch": record["batch"]}
        return listen

    # -- watching ------------------------------------------------------------------------------------
    def snapshot(self) -> Snapshot:
        with self._lock:
            return Snapshot(
                runs=self.runs, owner=self.owner, started=self.started, state=self._state,
                records=tuple(self._records), reports=tuple(self._reports),
                error=self._error, progress=self._progress(),
                current_run=self.runs[self._run_index].name if self._state in ACTIVE else None)

    def _progress(self) -> Progress:
        """Progress of the whole job; the ETA assumes later runs take as long as this one."""
        epochs, steps = self._shape["epochs"], self._shape["steps"]
        epoch, batch = self._position["epoch"], self._position["batch"]
        done_in_run = ((epoch - 1) * steps + batch) / (epochs * steps) if epochs and steps and epoch else 0.0
        if self._state not in ACTIVE:
            fraction = 1.0
        else:
            fraction = min(0.99, (self._run_index + done_in_run) / len(self.runs))
        elapsed = time.perf_counter() - self._clock
        eta = elapsed * (1 - fraction) / fraction if fraction > 0 else None
        return Progress(self._run_index + 1, len(self.runs), epoch, epochs, batch, steps, fraction,
                        elapsed, eta)


def describe_failure(error: Exception) -> str:
    """A user-worded sentence for an exception raised inside training."""
    from kmnist.store import ModelError
    from kmnist.training import ConfigError

    if isinstance(error, (ModelError, ConfigError)):
        return f"Training could not continue: {error}"
    if isinstance(error, MemoryError) or "OOM" in str(error) or "out of memory" in str(error).lower():
        return ("Training ran out of memory. Use a smaller batch size or a smaller training subset, "
                "then start again.")
    return (f"Training failed ({type(error).__name__}: {str(error)[:300]}). Nothing was overwritten; "
            "if a best checkpoint was saved its card says the run failed. Try again with other "
            "settings, or report this message.")


# -- the one job of this server process ----------------------------------------------------------------
_jobs_lock = threading.Lock()
_current: Job | None = None


def current() -> Job | None:
    """The running job, or else the last one (so its results stay visible), or None."""
    return _current


def problems(runs: list[Run], data, folder: Path | None = None) -> list[str]:
    """Every reason `runs` cannot start (bad hyperparameters, bad or taken names), with the fix."""
    from kmnist.store import ModelError, check_name, models_dir

    folder = Path(folder) if folder else models_dir()
    found: list[str] = []
    if not runs:
        return ["nothing to train: give at least one run"]
    seen = set()
    for run in runs:
        prefix = f"{run.name}: " if len(runs) > 1 else ""
        found += [prefix + problem for problem in run.config.problems(len(data.y_train))]
        try:
            name = check_name(run.name)
        except ModelError as error:
            found.append(str(error))
            continue
        if name in seen:
            found.append(f"model name {name!r} is used twice; give each run its own name")
        seen.add(name)
        if (folder / f"{name}.keras").exists():
            found.append(f"a model named {name!r} already exists in {folder}; choose another name "
                         "(models are never overwritten)")
    return found


def start(runs: list[Run], owner: str, data, folder: Path | None = None, pair: bool = False) -> Job:
    """Validate `runs`, then train them in the background; JobBusy if a job runs, JobError if invalid.

    `pair` marks a max/avg pair (see pair_runs): the Pooling page keeps showing a finished pair job's
    results, but only a running single job.
    """
    from kmnist.store import check_name, models_dir

    global _current
    folder = Path(folder) if folder else models_dir()
    with _jobs_lock:
        if _current is not None and _current.state in ACTIVE:
            snap = _current.snapshot()
            raise JobBusy(f"{snap.owner} is training {', '.join(snap.names)} "
                          f"({snap.progress.text}); one training job runs at a time on this server: "
                          "watch it, or wait until it ends")
        found = problems(runs, data, folder)
        if not found:
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as error:
                found.append(f"cannot create the models folder {folder} ({error.strerror}); "
                             "set KMNIST_MODELS to a writable folder")
        if found:
            raise JobError(found)
        runs = [replace(run, name=check_name(run.name)) for run in runs]
        _current = Job(runs, owner, data, folder, pair).start()
        return _current


def pair_runs(prefix: str, config: TrainConfig) -> list[Run]:
    """The max/avg twins: the same config (seed, data, epochs...) except pooling."""
    return [Run(f"{prefix}-{pooling}", replace(config, pooling=pooling)) for pooling in POOLINGS]


def pair_suffixes() -> tuple[str, ...]:
    """The name endings of a pair's models ("-max", "-avg"), for store.free_name."""
    return tuple(f"-{pooling}" for pooling in POOLINGS)


__all__ = ["ACTIVE", "FAILED", "FINISHED", "RUNNING", "STOPPED", "STOPPING", "Job", "JobBusy",
           "JobError", "Progress", "Run", "RunReport", "Snapshot", "current", "describe_failure",
           "format_seconds", "pair_runs", "pair_suffixes", "problems", "start"]
