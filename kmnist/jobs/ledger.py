"""The ledger of training jobs: the line with owners, places and estimates, handed to an executor.

One ledger per server holds every job: the running ones (as many as its executor has slots) and the
waiting ones, first in first out, with their owners and an estimated start. Where jobs train is the
executor's business (kmnist.jobs.executors: child processes here, or a Dask cluster); the ledger only
starts a job when a slot is free and hears when it ends. Only a job's owner may stop or cancel it.
"""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from pathlib import Path

from kmnist.jobs import wording
from kmnist.jobs.estimates import Pace, start_times
from kmnist.jobs.executors import LocalExecutor
from kmnist.jobs.job import Job
from kmnist.jobs.snapshots import FINISHED, QUEUED, Run
from kmnist.network.architectures import POOLINGS
from kmnist.network.config import TrainConfig
from kmnist.registry.errors import ModelError
from kmnist.registry.pairs import pair_name, pair_prefix
from kmnist.registry.store import MODEL_SUFFIX, check_name, model_path, models_dir

MAX_WAITING = 100   # jobs that may wait for a slot: a class of 30, three times over
STUDENT_MODEL = "my-model"  # a student's model name when they give none (numbered if taken)


class JobBusy(RuntimeError):
    """The line is full; the message says who is training and how many wait."""


class JobError(ValueError):
    """A job that cannot start; `problems` lists each reason with its fix."""

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = list(problems)


class Ledger:
    """The running jobs and the line of waiting ones. Decisions are made under `lock`; jobs are handed
    to the executor outside it, so pages never wait for a process or a cluster."""

    def __init__(self, executor=None):
        self.lock = threading.RLock()
        self.executor = executor or LocalExecutor()
        self.running: list[Job] = []
        self.waiting: list[Job] = []
        self.last: Job | None = None
        self.pace = Pace()
        self._noted = 0.0  # time.time() of the last note_estimates() pass

    def admit(self, job: Job) -> bool:
        """Give `job` a slot (True: launch it) or a place in line (False); JobBusy when the line is full."""
        slots = self.executor.slots()  # asked before the lock: a cluster may be slow to answer
        with self.lock:
            if len(self.running) < slots and not self.waiting:
                self.running.append(job)
                return True
            if len(self.waiting) >= MAX_WAITING:
                ahead = self.running[0].snapshot() if self.running else None
                raise JobBusy(wording.queue_full(ahead and ahead.owner, ahead.names if ahead else [],
                                                 len(self.waiting)))
            self.waiting.append(job)
            return False

    def admitted(self, job: Job, runs_now: bool) -> Job:
        """After admit(), outside the lock: launch `job`, or take its first estimate."""
        if runs_now:
            self.launch([job])
        else:
            self.note_estimates(now_please=True)
        return job

    def submit(self, job: Job) -> Job:
        return self.admitted(job, self.admit(job))

    def launch(self, jobs: list[Job]) -> None:
        """Start `jobs`, which submit() or ended() made running ones; a job that cannot start ends, and
        its ended() fills its slot."""
        for job in jobs:
            job.launch(self.executor)

    def withdraw(self, job: Job) -> None:
        with self.lock:
            if job in self.waiting:
                self.waiting.remove(job)

    def release(self, job: Job) -> list[Job]:
        """Free the slot of a job cancelled before it started; the waiting jobs that now have a slot."""
        slots = self.executor.slots()
        with self.lock:
            if job in self.running:
                self.running.remove(job)
            return self._fill(slots)

    def ended(self, job: Job) -> list[Job]:
        """Forget `job` as a running one; the waiting jobs that now have a slot, to launch."""
        slots = self.executor.slots()
        with self.lock:
            if job not in self.running:
                return []
            self.running.remove(job)
            self.last = job
            if job.state == FINISHED and job.started_at is not None:
                self.pace.ended(job.ended_at - job.started_at, job.work())
            return self._fill(slots)

    def _fill(self, slots: int) -> list[Job]:
        started = []
        while self.waiting and len(self.running) < slots:
            following = self.waiting.pop(0)
            if following.state == QUEUED:
                self.running.append(following)
                started.append(following)
        return started

    def note_estimates(self, now_please: bool = False) -> None:
        """Take the first estimate of each waiting job that has none yet: at once for a job that joins
        (`now_please`) or as soon as the pace is known, then at most once a second as batches come in
        (a pass over a long line costs; one that finds no pace yet stops at its first job)."""
        now = time.time()
        with self.lock:
            if now - self._noted < 1.0 and not now_please:
                return
            line = [job for job in self.waiting if job.joined_estimate is None]
        for job in line:
            seconds = self.estimated_start(job)
            if seconds is None:
                return  # the pace is not known yet: nor for the jobs behind it
            job.joined_estimate, job.estimate_taken_at = seconds, now
            self._noted = now

    def estimated_start(self, job: Job) -> float | None:
        """Seconds until a waiting `job` should start (0 for a running one, None when it is neither or
        no pace is known yet): the line played forward over the slots, each job at the measured pace."""
        with self.lock:
            running, line = list(self.running), list(self.waiting)
        if job not in line:
            return 0.0 if job in running else None
        rates = [self._rate(other) for other in running]
        rate = next((r for r in rates if r is not None), None)
        # Until a job has ended, what follows a job's last batch is unknown: guess it takes as long as
        # what came before its first one (both build and run TensorFlow graphs, both move the data).
        startups = [seconds for seconds in (other.startup() for other in running) if seconds is not None]
        tail = 0.0 if self.pace.measured else max(startups, default=0.0)
        remaining = []
        for other, other_rate in zip(running, rates, strict=True):
            progress = other.progress()
            total = self.pace.duration(other.work(), other_rate or rate, tail)
            # The ETA counts batches only; what follows the last one (testing, the twin) shows in the
            # whole-job times of the jobs that ended, so the larger of the two counts.
            lefts = [left for left in (progress.eta, None if total is None else total - progress.elapsed)
                     if left is not None]
            if not lefts:
                return None
            left = max(lefts)
            remaining.append(max(left, 0.0))
        durations = [self.pace.duration(ahead.work(), rate, tail) for ahead in line[:line.index(job) + 1]]
        if any(duration is None for duration in durations):
            return None
        return start_times(remaining, self.executor.slots(), durations)[-1]

    @staticmethod
    def _rate(job: Job) -> float | None:
        """Seconds per unit of work of a running job so far, once its own ETA is known and its first epoch
        has ended: before that its pace counts batches only, not the validation after each epoch (the
        first estimates of a class of quick runs then came out 20 % short)."""
        progress = job.progress()
        if progress.eta is None or progress.fraction <= 0 or (progress.run_index == 1 and progress.epoch < 2):
            return None
        return (progress.elapsed + progress.eta) / job.work()

    def taken_names(self, folder: Path) -> dict[str, Job]:
        """Model names the running and waiting jobs will save in `folder`, with the job of each."""
        with self.lock:
            return {run.name: job for job in (*self.running, *self.waiting) for run in job.runs
                    if job.folder == folder}


_ledger = Ledger()


def use(executor) -> None:
    """Train with `executor` (kmnist.jobs.executors) from now on: running jobs keep the one they run on,
    waiting jobs start on the new one."""
    with _ledger.lock:
        _ledger.executor = executor


def executor():
    return _ledger.executor


def current() -> Job | None:
    """The first running job, or else the last one that ended (so its results stay visible), or None."""
    with _ledger.lock:
        return _ledger.running[0] if _ledger.running else _ledger.last


def running() -> tuple[Job, ...]:
    """The jobs training now, in the order they started."""
    with _ledger.lock:
        return tuple(_ledger.running)


def waiting() -> tuple[Job, ...]:
    """The jobs waiting their turn, first in line first."""
    with _ledger.lock:
        return tuple(_ledger.waiting)


def latest_of(owner_id: str) -> Job | None:
    """The newest job `owner_id` started that is running or waiting, else the last of theirs that ended
    while the server remembers it (the last ended job of all)."""
    with _ledger.lock:
        mine = [job for job in (*_ledger.running, *_ledger.waiting) if job.owner_id == owner_id]
        if mine:
            return max(mine, key=lambda job: job.number)
        last = _ledger.last
        return last if last is not None and last.owner_id == owner_id else None


def position(job: Job) -> int:
    """1 for the next job to run, 2 for the one after...; 0 when `job` is not waiting."""
    line = waiting()
    return line.index(job) + 1 if job in line else 0


def estimated_start(job: Job) -> float | None:
    return _ledger.estimated_start(job)


def problems(runs: list[Run], data, folder: Path | None = None) -> list[str]:
    """Every reason `runs` cannot start (bad hyperparameters, bad or taken names), with the fix."""
    folder = Path(folder) if folder else models_dir()
    found: list[str] = []
    if not runs:
        return ["nothing to train: give at least one run"]
    planned = _ledger.taken_names(folder)
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
        elif name in planned:
            found.append(f"{planned[name].owner}'s job will save a model named {name!r}; "
                         "choose another name")
    return found


def check_name_problem(name: str) -> str | None:
    try:
        check_name(name)
    except ModelError as error:
        return str(error)
    return None


def with_free_names(runs: list[Run], folder: Path, pair: bool = False) -> list[Run]:
    """`runs`, renamed NAME-2, NAME-3... where a saved model or a running or waiting job already takes a
    name; a pair moves together and keeps its -max/-avg endings."""
    taken = set(_ledger.taken_names(folder)) | {path.name.removesuffix(MODEL_SUFFIX)
                                                 for path in folder.glob("*" + MODEL_SUFFIX)}
    prefix = pair_prefix(runs[0].name) if pair else None
    groups = [[run] for run in runs] if prefix is None else [runs]
    renamed = []
    for group in groups:
        base = prefix if prefix is not None else group[0].name
        endings = [run.name.removeprefix(base) for run in group]
        number, candidate = 1, base
        while any(candidate + ending in taken for ending in endings):
            number += 1
            candidate = f"{base}-{number}"
        renamed += [replace(run, name=candidate + ending) for run, ending in zip(group, endings, strict=True)]
        taken |= {candidate + ending for ending in endings}
    return renamed


def start(runs: list[Run], owner: str, data, folder: Path | None = None, pair: bool = False,
          owner_id: str | None = None, free_names: bool = False) -> Job:
    """Validate `runs`, then train them on the executor, now or when a slot is free.

    JobError if invalid, JobBusy if MAX_WAITING jobs already wait. `owner` is shown to everyone; only
    `owner_id` (default: `owner`) may stop or cancel the job. `pair` marks a max/avg pair (see
    pair_runs): the Pooling page keeps showing a finished pair job's results, but only a running single
    job. With `free_names` a name already taken is replaced by the next free one (with_free_names)
    instead of refused: pressing Start on a default form never collides.
    """
    folder = Path(folder) if folder else models_dir()
    with _ledger.lock:  # two sessions pressing Start at once: both get a place
        if free_names and runs and all(check_name_problem(run.name) is None for run in runs):
            runs = with_free_names(runs, folder, pair)
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
        job = Job(runs, owner, data, folder, pair, owner_id, ledger=_ledger)
        runs_now = _ledger.admit(job)  # names checked and taken in one step: no two jobs share one
    return _ledger.admitted(job, runs_now)  # outside the lock: starting a process or a task takes a while


def pair_runs(prefix: str, config: TrainConfig) -> list[Run]:
    """The runs of the max/avg pair `prefix`: the same config (seed, data, epochs...) except pooling."""
    return [Run(pair_name(prefix, pooling), replace(config, pooling=pooling)) for pooling in POOLINGS]
