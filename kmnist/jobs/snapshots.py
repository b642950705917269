"""What a job looks like from outside: its runs, their reports, its progress, and immutable snapshots."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from kmnist.jobs import wording
from kmnist.network.config import TrainConfig

if TYPE_CHECKING:
    from kmnist.training.result import TrainResult

QUEUED, RUNNING, STOPPING = "queued", "running", "stopping"
FINISHED, FAILED, STOPPED, CANCELLED = "finished", "failed", "stopped", "cancelled"
ACTIVE = (RUNNING, STOPPING)
OPEN = (QUEUED, *ACTIVE)  # not ended yet


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
        return wording.progress_line(self.run_index, self.runs, self.epoch, self.epochs, self.batch,
                                     self.steps, self.elapsed, self.eta)


@dataclass(frozen=True)
class Snapshot:
    """An immutable copy of a job for rendering: nothing in it changes while the child trains."""

    number: int  # the job's number on this server, 1, 2, ...
    runs: tuple[Run, ...]
    owner: str
    owner_id: str
    queued_at: float  # time.time() when it was asked for
    started_at: float | None  # time.time() when it began to train (None while it waits)
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
