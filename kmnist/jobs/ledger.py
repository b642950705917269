"""Training jobs: the queue with owners, places and estimates; each job trains in a child process."""

from __future__ import annotations

import contextlib
import importlib
import itertools
import multiprocessing
import multiprocessing.connection
import os
import signal
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from types import MappingProxyType

import numpy as np

from kmnist.network.architectures import POOLINGS
from kmnist.network.config import TrainConfig
from kmnist.training.run import TrainResult

QUEUED, RUNNING, STOPPING = "queued", "running", "stopping"


FINISHED, FAILED, STOPPED, CANCELLED = "finished", "failed", "stopped", "cancelled"


ACTIVE = (RUNNING, STOPPING)


OPEN = (QUEUED, *ACTIVE)  # not ended yet


MAX_WAITING = 10    # jobs that may wait behind the running one


STOP_GRACE = 20.0   # seconds a child has to end after Stop (it stops at the next batch) before it is ended


CHILD_NICE = 19     # the lowest CPU priority: pages stay responsive (a rerun 1.24-1.29x idle, against


                    # 1.40-1.77x at nice 10) and training still uses the idle cores
TRAINER = "kmnist.training:train"  # what the child runs for each run ("module:function"; tests swap it)


PACED_FROM = 2      # the ETA times batches from the end of this one on: batch 1 also builds the train step


class JobBusy(RuntimeError):
    """The queue is full; the message says who is training and how many wait."""


class NotOwner(PermissionError):
    """Someone other than the job's owner tried to stop or cancel it."""


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
    eta: float | None  # seconds left, None until the pace of a few batches is measured

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
    """An immutable copy of a job for rendering: nothing in it changes while the child trains."""

    number: int  # the job's number on this server, 1, 2, ...
    runs: tuple[Run, ...]
    owner: str
    owner_id: str
    started: float  # time.time() when it was asked for
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


def seconds_left(paced_from: tuple[int, float] | None, latest: tuple[int, float] | None,
                 steps_left: int) -> float | None:
    """Seconds for `steps_left` more batches at the pace between two (step, elapsed) marks of one run;
    None until the marks are two batches apart (one batch's time is too noisy to project)."""
    if paced_from is None or latest is None or latest[0] - paced_from[0] < 2:
        return None
    return max(0.0, steps_left) * (latest[1] - paced_from[1]) / (latest[0] - paced_from[0])


def format_seconds(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    minutes, seconds = divmod(seconds, 60)
    return f"{minutes} min {seconds:02d} s" if minutes else f"{seconds} s"


_numbers = itertools.count(1)


class Job:
    """Trains `runs` one after another in a child process; thread-safe to watch from any session."""

    def __init__(self, runs: list[Run], owner: str, data, folder: Path, pair: bool = False,
                 owner_id: str | None = None):
        self.number = next(_numbers)
        self.runs = tuple(runs)
        self.owner = owner
        self.owner_id = owner_id or owner
        self.pair = pair
        self.data = data
        self.folder = Path(folder)
        self.started = time.time()
        self._clock: float | None = None  # perf_counter() when the child was started
        self._lock = threading.Lock()
        self._ended = threading.Event()
        self._records: list[Mapping] = []
        self._reports: list[RunReport] = []
        self._state = QUEUED
        self._error: str | None = None
        self._run_index = 0
        self._shape = {"epochs": runs[0].config.epochs, "steps": 0}
        self._position = {"epoch": 0, "batch": 0}
        self._pace: dict[str, tuple[int, float] | None] = {"from": None, "latest": None}  # (step, elapsed)
        self._process = None
        self._stop = None
        self._stop_asked: float | None = None

    # -- control -------------------------------------------------------------------------------------
    def launch(self) -> bool:
        """Start the child process and the thread that listens to it (the scheduler calls this, outside
        its lock). False, and nothing started, when the job was cancelled in the meantime; a child that
        cannot be started makes the job FAILED."""
        context = multiprocessing.get_context("spawn")
        self._stop = context.Event()
        reader, writer = context.Pipe(duplex=False)
        with self._lock:
            if self._state != QUEUED:
                return False
            self._state, self._clock = RUNNING, time.perf_counter()  # a Stop from now on is heard
        self._process = context.Process(
            target=_child_main, args=(TRAINER, self.runs, self.data, self.folder, writer, self._stop),
            name=f"kmnist-train-{self.runs[0].name}", daemon=True)
        try:
            self._process.start()
        except Exception as error:  # out of processes or memory, arguments that do not pickle...
            self._process = None
            self._finish("failed", f"The training process could not be started ({type(error).__name__}: "
                                   f"{error}); try again in a moment.", terminated=False)
            return False
        finally:
            writer.close()  # the child holds the only write end: its death reads as end-of-file here
        threading.Thread(target=self._watch, args=(reader,), name=f"kmnist-watch-{self.number}",
                         daemon=True).start()
        return True

    def stop(self, by: str | None = None) -> None:
        """Stop a running job at its next batch (the best checkpoint so far is kept), or cancel a waiting
        one. Only its owner may: NotOwner for anyone else (`by` None means the server itself)."""
        if by is not None and by != self.owner_id:
            raise NotOwner(f"only {self.owner}, who started {', '.join(r.name for r in self.runs)}, "
                           "can stop it")
        with self._lock:
            if self._state == QUEUED:
                self._state = CANCELLED
                cancelled = True
            else:
                cancelled = False
                if self._state == RUNNING:
                    self._state, self._stop_asked = STOPPING, time.monotonic()
                    self._stop.set()
        if cancelled:
            _scheduler.withdraw(self)
            self._ended.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the job has ended and the server is free of it (True), or `timeout` passes."""
        return self._ended.wait(timeout)

    @property
    def state(self) -> str:
        with self._lock:
            return self._state

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    # -- listening to the child ------------------------------------------------------------------------
    def _watch(self, reader) -> None:
        """Keep what the child sends until its last word or its death; always end the job."""
        outcome, detail, terminated, killed_at = None, None, False, None
        try:
            while outcome is None:
                ready = multiprocessing.connection.wait([reader, self._process.sentinel], timeout=0.2)
                if reader in ready:
                    try:
                        kind, index, payload = reader.recv()
                    except (EOFError, OSError):  # the child died, perhaps in the middle of a message
                        break
                    outcome, detail = self._keep(kind, index, payload)
                elif ready:  # only the process sentinel: it ended; read what it managed to send
                    while outcome is None and reader.poll():
                        outcome, detail = self._keep(*reader.recv())
                    break
                if outcome is None and self._stop_asked is not None:  # Stop not answered in time?
                    overdue = time.monotonic() - self._stop_asked - STOP_GRACE
                    if overdue > 0 and not terminated:
                        self._process.terminate()  # the checkpoints it saved stay
                        terminated = True
                    elif overdue > 10 and killed_at is None:
                        self._process.kill()
                        killed_at = overdue
        except Exception as error:  # never leave a job running in the server's eyes
            outcome, detail = "failed", describe_failure(error)
        finally:
            reader.close()
            self._process.join(30)
            if self._process.is_alive():
                self._process.kill()
                self._process.join(10)
            self._finish(outcome, detail, terminated)

    def _keep(self, kind: str, index, payload) -> tuple[str | None, str | None]:
        """Keep one message from the child; its last word ("done"/"failed", detail) when it is one."""
        if kind == "record":
            self._keep_record(payload)
        elif kind == "run":
            with self._lock:
                self._run_index = index
                self._shape = {"epochs": self.runs[index].config.epochs, "steps": 0}
                self._position = {"epoch": 0, "batch": 0}
                self._pace = {"from": None, "latest": None}
        elif kind == "report":
            result, predicted = payload
            with self._lock:
                self._reports.append(RunReport(self.runs[index].name, result, predicted,
                                               self.data.y_test, self.data.x_test))
        else:
            return kind, payload
        return None, None

    def _keep_record(self, record: dict) -> None:
        with self._lock:
            self._records.append(MappingProxyType(record))
            if record["kind"] == "begin":
                self._shape = {"epochs": record["epochs"] or 0, "steps": record["steps"] or 0}
                self._pace = {"from": None, "latest": None}
            elif record["kind"] == "batch":
                self._position = {"epoch": record["epoch"], "batch": record["batch"]}
                mark = (record["step"], record["elapsed"])
                if self._pace["from"] is None and mark[0] >= PACED_FROM:
                    self._pace["from"] = mark
                self._pace["latest"] = mark

    def _finish(self, outcome: str | None, detail: str | None, terminated: bool) -> None:
        with self._lock:
            stopped = self._stop_asked is not None
            if outcome == "done":
                self._state, self._error = (STOPPED if stopped else FINISHED), None
            elif outcome == "failed":
                self._state, self._error = FAILED, detail
            elif terminated:
                self._state, self._error = STOPPED, (
                    f"The training process did not stop within {STOP_GRACE:.0f} s of Stop and was ended; "
                    "the best checkpoint it had saved is kept.")
            else:
                self._state, self._error = FAILED, _death_message(self._process.exitcode)
        following = _scheduler.ended(self)  # the server is free of this job before anyone hears it ended
        self._ended.set()
        _scheduler.launch(following)

    # -- watching ------------------------------------------------------------------------------------
    def snapshot(self) -> Snapshot:
        with self._lock:
            return Snapshot(
                number=self.number, runs=self.runs, owner=self.owner, owner_id=self.owner_id,
                started=self.started, state=self._state, records=tuple(self._records),
                reports=tuple(self._reports), error=self._error, progress=self._progress(),
                current_run=self.runs[self._run_index].name if self._state in ACTIVE else None)

    def progress(self) -> Progress:
        """The job's progress alone (a snapshot without copying its records)."""
        with self._lock:
            return self._progress()

    def _progress(self) -> Progress:
        """Progress of the whole job; the ETA takes this run's pace per batch since batch PACED_FROM
        (epoch-end validation included once an epoch has ended) for its batches left and later runs'."""
        epochs, steps = self._shape["epochs"], self._shape["steps"]
        epoch, batch = self._position["epoch"], self._position["batch"]
        done_in_run = ((epoch - 1) * steps + batch) / (epochs * steps) if epochs and steps and epoch else 0.0
        if self._state == QUEUED:
            fraction = 0.0
        elif self._state not in ACTIVE:
            fraction = 1.0
        else:
            fraction = min(0.99, (self._run_index + done_in_run) / len(self.runs))
        elapsed = time.perf_counter() - self._clock if self._clock is not None else 0.0
        if self._state == QUEUED:
            eta = None
        elif self._state not in ACTIVE:
            eta = 0.0
        else:
            later = sum(run.config.epochs for run in self.runs[self._run_index + 1:]) * steps
            done = (epoch - 1) * steps + batch if epoch else 0
            eta = seconds_left(self._pace["from"], self._pace["latest"], epochs * steps - done + later)
        return Progress(self._run_index + 1, len(self.runs), epoch, epochs, batch, steps, fraction,
                        elapsed, eta)

    def work(self) -> float:
        """How much training the job asks for, in images seen (train images x epochs, over its runs)."""
        total = len(self.data.y_train)
        return sum(min(run.config.limit or total, total) * (1 - run.config.val_fraction) * run.config.epochs
                   for run in self.runs)


def _death_message(exitcode: int | None) -> str:
    """Why a child that sent no last word ended: killed by a signal, or an exit status."""
    if exitcode is not None and exitcode < 0:
        try:
            cause = f"killed by signal {signal.Signals(-exitcode).name}"
        except ValueError:
            cause = f"killed by signal {-exitcode}"
        hint = " (out of memory?)" if exitcode == -signal.SIGKILL else ""
    else:
        cause, hint = f"exited with status {exitcode}", ""
    return (f"The training process was {cause}{hint} before it finished. The server is fine; the best "
            "checkpoint saved so far is kept, and its card says the run was interrupted. Start again, "
            "perhaps with a smaller batch size or subset.")


def _send(messages, name: str, record: dict) -> None:
    messages.send(("record", None, {**record, "run": name}))


def _child_main(trainer_path: str, runs, data, folder: Path, messages, stop) -> None:
    """The child process: train each run, sending records, reports and a last word ("done"/"failed")."""
    with contextlib.suppress(AttributeError, OSError):  # no nice() here: train at normal priority
        os.nice(CHILD_NICE)
    try:
        module, name = trainer_path.split(":")
        trainer = getattr(importlib.import_module(module), name)
        from kmnist.evaluation.metrics import predict_classes

        for index, run in enumerate(runs):
            if stop.is_set():
                break
            messages.send(("run", index, None))
            result = trainer(run.config, data, folder / f"{run.name}.keras",
                             listeners=[partial(_send, messages, run.name)], stop_event=stop)
            predicted = predict_classes(result.model, data.x_test) if result.model is not None else None
            messages.send(("report", index, (replace(result, model=None), predicted)))
        messages.send(("done", None, None))
    except BaseException as error:  # the server must learn what happened, in words
        messages.send(("failed", None, describe_failure(error)))


def describe_failure(error: BaseException) -> str:
    """A user-worded sentence for an exception raised inside training."""
    from kmnist.network.config import ConfigError
    from kmnist.registry.errors import ModelError

    if isinstance(error, (ModelError, ConfigError)):
        return f"Training could not continue: {error}"
    if isinstance(error, MemoryError) or "OOM" in str(error) or "out of memory" in str(error).lower():
        return ("Training ran out of memory. Use a smaller batch size or a smaller training subset, "
                "then start again.")
    return (f"Training failed ({type(error).__name__}: {str(error)[:300]}). Nothing was overwritten; "
            "if a best checkpoint was saved its card says the run failed. Try again with other "
            "settings, or report this message.")


# -- the server's jobs: one runs, up to MAX_WAITING wait their turn ----------------------------------------
class _Scheduler:
    """One running job, a line of waiting ones. Decisions are made under `lock`; child processes are
    started outside it, so pages never wait for a spawn."""

    def __init__(self):
        self.lock = threading.RLock()
        self.running: Job | None = None
        self.waiting: list[Job] = []
        self.last: Job | None = None

    def submit(self, job: Job) -> Job:
        with self.lock:
            if self.running is None and not self.waiting:
                self.running = job
            elif len(self.waiting) >= MAX_WAITING:
                snap = self.running.snapshot() if self.running else None
                whose = f"{snap.owner} is training {', '.join(snap.names)}; " if snap else ""
                raise JobBusy(f"{whose}{len(self.waiting)} jobs already wait, the most this server queues; "
                              "try again when one has finished")
            else:
                self.waiting.append(job)
                return job
        self.launch(job)
        return job

    def launch(self, job: Job | None) -> None:
        """Start `job`, which ended() or submit() made the running one; on to the next if it cannot run."""
        while job is not None and not job.launch():
            with self.lock:
                if self.running is not job:  # it failed to start, and ended() has already moved on
                    return
                self.running, job = None, self._next()

    def withdraw(self, job: Job) -> None:
        with self.lock:
            if job in self.waiting:
                self.waiting.remove(job)

    def ended(self, job: Job) -> Job | None:
        """Forget `job` as the running one; the next waiting job, now the running one, to launch."""
        with self.lock:
            if self.running is not job:
                return None
            self.last = job
            self.running = self._next()
            return self.running

    def _next(self) -> Job | None:
        while self.waiting:
            following = self.waiting.pop(0)
            if following.state == QUEUED:
                return following
        return None


_scheduler = _Scheduler()


def current() -> Job | None:
    """The running job, or else the last one that ended (so its results stay visible), or None."""
    with _scheduler.lock:
        return _scheduler.running or _scheduler.last


def waiting() -> tuple[Job, ...]:
    """The jobs waiting their turn, first in line first."""
    with _scheduler.lock:
        return tuple(_scheduler.waiting)


def position(job: Job) -> int:
    """1 for the next job to run, 2 for the one after...; 0 when `job` is not waiting."""
    line = waiting()
    return line.index(job) + 1 if job in line else 0


def estimated_start(job: Job) -> float | None:
    """Seconds until a waiting `job` should start: what is left of the running job, plus the jobs ahead
    at the running job's speed so far (None until that speed is known)."""
    with _scheduler.lock:
        running, line = _scheduler.running, list(_scheduler.waiting)
    if job not in line or running is None:
        return 0.0 if job in line else None
    progress = running.progress()
    if progress.eta is None or progress.fraction <= 0:
        return None
    speed = running.work() * progress.fraction / progress.elapsed  # images per second
    return progress.eta + sum(ahead.work() for ahead in line[:line.index(job)]) / speed


def problems(runs: list[Run], data, folder: Path | None = None) -> list[str]:
    """Every reason `runs` cannot start (bad hyperparameters, bad or taken names), with the fix."""
    from kmnist.registry.errors import ModelError
    from kmnist.registry.store import check_name, models_dir

    folder = Path(folder) if folder else models_dir()
    found: list[str] = []
    if not runs:
        return ["nothing to train: give at least one run"]
    with _scheduler.lock:
        others = [job for job in (_scheduler.running, *_scheduler.waiting) if job is not None]
    planned = {(job.folder, run.name): job for job in others for run in job.runs}
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
        elif (folder, name) in planned:
            found.append(f"{planned[folder, name].owner}'s job will save a model named {name!r}; "
                         "choose another name")
    return found


def start(runs: list[Run], owner: str, data, folder: Path | None = None, pair: bool = False,
          owner_id: str | None = None) -> Job:
    """Validate `runs`, then train them in a child process, now or when the jobs ahead have ended.

    JobError if invalid, JobBusy if MAX_WAITING jobs already wait. `owner` is shown to everyone; only
    `owner_id` (default: `owner`) may stop or cancel the job. `pair` marks a max/avg pair (see
    pair_runs): the Pooling page keeps showing a finished pair job's results, but only a running single
    job.
    """
    from kmnist.registry.store import check_name, models_dir

    folder = Path(folder) if folder else models_dir()
    with _scheduler.lock:  # two sessions pressing Start at once: one runs, the other queues
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
        return _scheduler.submit(Job(runs, owner, data, folder, pair, owner_id))


def pair_runs(prefix: str, config: TrainConfig) -> list[Run]:
    """The max/avg twins: the same config (seed, data, epochs...) except pooling."""
    return [Run(f"{prefix}-{pooling}", replace(config, pooling=pooling)) for pooling in POOLINGS]


def pair_suffixes() -> tuple[str, ...]:
    """The name endings of a pair's models ("-max", "-avg"), for store.free_name."""
    return tuple(f"-{pooling}" for pooling in POOLINGS)


__all__ = ["ACTIVE", "CANCELLED", "FAILED", "FINISHED", "OPEN", "QUEUED", "RUNNING", "STOPPED", "STOPPING",
           "Job", "JobBusy", "JobError", "NotOwner", "Progress", "Run", "RunReport", "Snapshot", "current",
           "describe_failure", "estimated_start", "format_seconds", "pair_runs", "pair_suffixes", "position",
           "problems", "seconds_left", "start", "waiting"]
