"""One training job: its runs, owner and state, what its executor reports, and its progress."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Mapping
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

PACED_FROM = 2      # the ETA times batches from the end of this one on: batch 1 also builds the train step


class NotOwner(PermissionError):
    """Someone other than the job's owner tried to stop or cancel it."""


_numbers = itertools.count(1)


class Job:
    """Trains `runs` one after another on an executor (kmnist.jobs.executors); thread-safe to watch from
    any session. Its ledger decides when it starts and hears when it ends."""

    def __init__(self, runs: list[Run], owner: str, data, folder: Path, pair: bool = False,
                 owner_id: str | None = None, ledger=None):
        self.number = next(_numbers)
        self.ledger = ledger
        self.runs = tuple(runs)
        self.owner = owner
        self.owner_id = owner_id or owner
        self.pair = pair
        self.data = data
        self.folder = Path(folder)
        self.queued_at = time.time()      # when it was asked for
        self.started_at: float | None = None  # time.time() when its executor took it
        self.ended_at: float | None = None
        # Its first estimated start, in seconds from estimate_taken_at: taken when it joined the line, or as
        # soon after as the pace of the jobs ahead was known (the ledger checks it against the real start).
        self.joined_estimate: float | None = None
        self.estimate_taken_at: float | None = None
        self._clock: float | None = None  # perf_counter() when its executor took it
        self._startup: float | None = None  # seconds from then to its first batch
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
        self._pace_seen: float | None = None  # perf_counter() when the latest batch mark arrived
        self._runner = None  # the executor's handle on the running job
        self._stop_asked = False

    # -- control -------------------------------------------------------------------------------------
    def launch(self, executor) -> bool:
        """Hand the job to `executor` (the ledger calls this, outside its lock). False, and nothing
        started, when the job was cancelled in the meantime or the executor could not start it."""
        with self._lock:
            cancelled = self._state != QUEUED
            if not cancelled:
                self._state, self._clock = RUNNING, time.perf_counter()  # a Stop from now on is heard
                self.started_at = time.time()
                self._runner = executor.runner(self)
        if cancelled:  # cancelled between the ledger giving it a slot and now: the slot goes on
            if self.ledger:
                self.ledger.launch(self.ledger.release(self))
            return False
        try:
            return self._runner.start()
        except Exception as error:  # a runner that raised instead of failing the job: never left running
            self.finish("failed", wording.not_started(error))
            return False

    def stop(self, by: str | None = None) -> None:
        """Stop a running job at its next batch (the best checkpoint so far is kept), or cancel a waiting
        one. Only its owner may: NotOwner for anyone else (`by` None means the server itself)."""
        if by is not None and by != self.owner_id:
            raise NotOwner(wording.not_owner(self.owner, [r.name for r in self.runs]))
        with self._lock:
            cancelled = self._state == QUEUED
            stopping = self._state == RUNNING
            if cancelled:
                self._state = CANCELLED
            elif stopping:
                self._state, self._stop_asked = STOPPING, True
        if stopping:  # outside the lock: a cluster's scheduler may be slow to hear it
            self._runner.stop()
        if cancelled:
            self.ended_at = time.time()
            if self.ledger:
                self.ledger.withdraw(self)
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
        """The process id of a local run's child; None before it starts and on a cluster."""
        return self._runner.pid if self._runner is not None else None

    @property
    def where(self) -> str | None:
        """The cluster worker that trains it (None locally, or before the worker is known)."""
        return getattr(self._runner, "where", None)

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
                if self._startup is None and self._clock is not None:
                    self._startup = time.perf_counter() - self._clock
                self._position = {"epoch": record["epoch"], "batch": record["batch"]}
                mark = (record["step"], record["elapsed"])
                if self._pace["from"] is None and mark[0] >= PACED_FROM:
                    self._pace["from"] = mark
                self._pace["latest"] = mark
                self._pace_seen = time.perf_counter()
        if record["kind"] == "batch" and self.ledger is not None:
            self.ledger.note_estimates()

    def finish(self, outcome: str, detail: str | None) -> None:
        """The executor's last word: "done", "stopped" (ended after Stop) or "failed" with why."""
        with self._lock:
            if outcome == "done":
                self._state, self._error = (STOPPED if self._stop_asked else FINISHED), None
            elif outcome == "stopped":
                self._state, self._error = STOPPED, detail
            else:
                self._state, self._error = FAILED, detail
            self.ended_at = time.time()
        following = self.ledger.ended(self) if self.ledger else []  # free before anyone hears it ended
        self._ended.set()
        if self.ledger:
            self.ledger.launch(following)

    # -- watching ------------------------------------------------------------------------------------
    def snapshot(self) -> Snapshot:
        with self._lock:
            return Snapshot(
                number=self.number, runs=self.runs, owner=self.owner, owner_id=self.owner_id,
                queued_at=self.queued_at, started_at=self.started_at, state=self._state,
                records=tuple(self._records),
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
            if eta is not None:  # counted down from when the latest batch arrived: never stands still
                eta = max(0.0, eta - (time.perf_counter() - self._pace_seen))
        return Progress(self._run_index + 1, len(self.runs), epoch, epochs, batch, steps, fraction,
                        elapsed, eta)

    def startup(self) -> float | None:
        """Seconds from when its executor took it to its first batch (None before that)."""
        with self._lock:
            return self._startup

    def work(self) -> float:
        """How much training the job asks for, in images seen (train images x epochs, over its runs)."""
        total = len(self.data.y_train)
        return sum(min(run.config.limit or total, total) * (1 - run.config.val_fraction) * run.config.epochs
                   for run in self.runs)
