"""Training jobs: the queue with owners, places and estimates; each job trains in a child process."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType

from kmnist.jobs import wording
from kmnist.jobs.snapshots import (
    ACTIVE,
    CANCELLED,
    FAILED,
    FINISHED,
    QUEUED,
    RUNNING,
    STOPPED,
    STOPPING,
    Progress,
    Run,
    RunReport,
    Snapshot,
    seconds_left,
)
from kmnist.jobs.supervisor import ChildProcess
from kmnist.network.architectures import POOLINGS
from kmnist.network.config import TrainConfig
from kmnist.registry.errors import ModelError
from kmnist.registry.pairs import pair_name
from kmnist.registry.store import check_name, model_path, models_dir

MAX_WAITING = 10    # jobs that may wait behind the running one


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
        self._runner: ChildProcess | None = None
        self._stop_asked = False

    # -- control -------------------------------------------------------------------------------------
    def launch(self) -> bool:
        """Hand the job to its executor (the scheduler calls this, outside its lock). False, and nothing
        started, when the job was cancelled in the meantime or its executor could not start it."""
        with self._lock:
            if self._state != QUEUED:
                return False
            self._state, self._clock = RUNNING, time.perf_counter()  # a Stop from now on is heard
            self._runner = ChildProcess(self)
        return self._runner.start()

    def stop(self, by: str | None = None) -> None:
        """Stop a running job at its next batch (the best checkpoint so far is kept), or cancel a waiting
        one. Only its owner may: NotOwner for anyone else (`by` None means the server itself)."""
        if by is not None and by != self.owner_id:
            raise NotOwner(wording.not_owner(self.owner, [r.name for r in self.runs]))
        with self._lock:
            cancelled = self._state == QUEUED
            if cancelled:
                self._state = CANCELLED
            elif self._state == RUNNING:
                self._state, self._stop_asked = STOPPING, True
                self._runner.stop()
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
        return self._runner.pid if self._runner is not None else None

    # -- what the executor reports -----------------------------------------------------------------------
    def keep(self, kind: str, index, payload) -> tuple[str | None, str | None]:
        """Keep one message from the run's executor; its last word ("done"/"failed", detail) when it is
        one."""
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

    def finish(self, outcome: str, detail: str | None) -> None:
        """The executor's last word: "done", "stopped" (ended after Stop) or "failed" with why."""
        with self._lock:
            if outcome == "done":
                self._state, self._error = (STOPPED if self._stop_asked else FINISHED), None
            elif outcome == "stopped":
                self._state, self._error = STOPPED, detail
            else:
                self._state, self._error = FAILED, detail
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
                raise JobBusy(wording.queue_full(snap and snap.owner, snap.names if snap else [],
                                                 len(self.waiting)))
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
        if model_path(name, folder).exists():
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
    """The runs of the max/avg pair `prefix`: the same config (seed, data, epochs...) except pooling."""
    return [Run(pair_name(prefix, pooling), replace(config, pooling=pooling)) for pooling in POOLINGS]
