"""`python -m kmnist bench --class N`: a simulated class through the app's ledger, its six figures, and
an unreachable cluster refused in one line within 10 s."""

import os
import re
import subprocess
import sys
import time

import pytest

from kmnist.commands.classroom import Outcome, figures, format_figures
from kmnist.jobs import executors
from tests.conftest import ROOT
from tests.dask_lab import free_port

LINES = ("refused", "done", "failed", r"makespan \(s\)", r"wait p50/p95 \(s\)", r"worst estimate error \(%\)")


def bench(*args: str, timeout: float) -> subprocess.CompletedProcess:
    """The command as a school would run it, the local executor with one slot on any machine."""
    env = {**os.environ, executors.SLOTS_ENV: "1"}
    return subprocess.run([sys.executable, "-m", "kmnist", "bench", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)


def six_lines(stdout: str) -> dict[str, str]:
    """The six figure lines, in their order, after the one line that says what ran."""
    lines = stdout.strip().splitlines()
    assert len(lines) == 1 + len(LINES), stdout
    found = {}
    for pattern, line in zip(LINES, lines[1:], strict=True):
        match = re.fullmatch(rf"({pattern}): (.*)", line)
        assert match, f"expected {pattern!r} first in {line!r}"
        found[pattern] = match.group(2)
    return found


def student(number: int, pressed: float, **times) -> Outcome:
    return Outcome(f"Student {number}", pressed, f"my-model-max-{number}", **times)


def test_figures_count_from_the_press_and_judge_each_estimate_from_when_it_was_taken():
    outcomes = [
        student(1, 100.0, state="finished", queued_at=100.0, started_at=100.0, ended_at=120.0),
        # joined at 101, estimated at 105 to start in 20 s; started at 120: 15 s after the estimate
        student(2, 101.0, state="finished", queued_at=101.0, started_at=120.0, ended_at=140.0, waited=True,
                joined_estimate=20.0, estimate_taken_at=105.0),
        student(3, 102.0, state="failed", error="worker lab-1 died", queued_at=102.0, started_at=140.0,
                ended_at=150.0, waited=True),  # it waited, but never had an estimate
        Outcome("Student 4", 102.5, refused="the line is full"),
    ]
    numbers = figures(outcomes, 100.0, 150.0)
    assert (numbers["refused"], numbers["done"], numbers["failed"]) == (1, 2, 1)
    assert numbers["makespan"] == 50.0
    assert numbers["wait_p50"] == 19.0 and numbers["wait_p95"] == pytest.approx(19 + 0.9 * (38 - 19))
    assert numbers["waited"] == 2 and numbers["estimated"] == 1
    assert numbers["worst_estimate_error"] == pytest.approx(5 / 15)
    lines = format_figures(numbers)
    assert lines[0] == "refused: 1 of 4 (first: the line is full)"
    assert lines[2] == "failed: 1 (first: worker lab-1 died)"
    assert lines[3] == "makespan (s): 50.0" and lines[4] == "wait p50/p95 (s): 19.0 / 36.1"
    assert lines[5] == "worst estimate error (%): 33 (1 of 2 waiting jobs had an estimate; median 33%)"


@pytest.mark.real_data
def test_a_quick_class_of_three_trains_every_job_through_the_ledger(data_dir):
    result = bench("--class", "3", "--quick", "--data", str(data_dir), timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "A class of 3" in result.stdout and "1 job at a time" in result.stdout
    figures_ = six_lines(result.stdout)
    assert figures_["refused"] == "0 of 3" and figures_["done"] == "3" and figures_["failed"] == "0"
    assert float(figures_[r"makespan \(s\)"]) > 0
    p50, p95 = map(float, figures_[r"wait p50/p95 \(s\)"].split(" / "))
    assert 0 <= p50 <= p95  # one slot: the first trains at once, the others wait their turn
    assert p95 > 0
    assert re.fullmatch(r"(\d+|none) \(\d of 2 waiting jobs had an estimate.*\)",
                        figures_[r"worst estimate error \(%\)"])


def test_an_unreachable_cluster_is_refused_in_one_line_within_ten_seconds():
    address = f"tcp://127.0.0.1:{free_port()}"
    started = time.monotonic()
    result = bench("--class", "3", "--quick", "--cluster", address, timeout=60)
    assert time.monotonic() - started <= 10
    assert result.returncode == 2 and result.stdout == ""
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("error: ") and address in line and "cannot be reached" in line


def test_cluster_and_sizes_go_with_a_class_only():
    result = bench("--cluster", "tcp://127.0.0.1:8786", timeout=60)
    assert result.returncode == 2 and "--class" in result.stderr
