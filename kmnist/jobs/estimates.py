"""When a waiting job should start: the line played forward over the free slots, at the measured pace."""

from __future__ import annotations

import heapq
from collections.abc import Sequence


def start_times(remaining: Sequence[float], slots: int, durations: Sequence[float]) -> list[float]:
    """Seconds from now until each waiting job starts, first in line first.

    `remaining` holds the seconds left of each running job, `slots` how many jobs run at once, and
    `durations` the expected seconds of each waiting job. Each job starts on the first slot to come free.
    """
    free = sorted(max(0.0, left) for left in remaining)[:slots]
    free += [0.0] * (slots - len(free))
    heapq.heapify(free)
    starts = []
    for duration in durations:
        begins = heapq.heappop(free)
        starts.append(begins)
        heapq.heappush(free, begins + duration)
    return starts


class Pace:
    """Seconds a job takes per unit of work (images seen), from the jobs that ended most recently:
    start-up included, so a short job's estimate counts the process start and the data preparation."""

    def __init__(self, keep: int = 5):
        self._keep = keep
        self._seconds_per_work: list[float] = []

    def ended(self, seconds: float, work: float) -> None:
        """A job of `work` that trained to its end took `seconds`."""
        if work > 0 and seconds > 0:
            self._seconds_per_work = [*self._seconds_per_work, seconds / work][-self._keep:]

    @property
    def measured(self) -> bool:
        """Whether a job has ended, so that whole-job times (start-up to the files' return) are known."""
        return bool(self._seconds_per_work)

    def duration(self, work: float, running_rate: float | None = None, tail: float = 0.0) -> float | None:
        """Expected seconds for `work`: at the recent jobs' median rate, else at the rate of a job now
        running (`running_rate`, seconds per work from its start to its last batch) plus `tail`, the
        guess for what follows the last batch (testing, the twin, the files' return); else None."""
        if self._seconds_per_work:
            rates = sorted(self._seconds_per_work)
            return work * rates[len(rates) // 2]
        return None if running_rate is None else work * running_rate + tail
