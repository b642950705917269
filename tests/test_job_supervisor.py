"""kmnist.jobs.supervisor: what the training process sends, in order, and how its end reaches the job."""

import os
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from kmnist.jobs import supervisor, wording
from kmnist.jobs.snapshots import Run
from kmnist.network.config import TrainConfig
from tests.conftest import ROOT

DATA = SimpleNamespace(x_test=np.zeros((3, 28, 28), "uint8"), y_test=np.zeros(3, "uint8"))
RUNS = (Run("one", TrainConfig(epochs=2)), Run("two", TrainConfig(epochs=3, pooling="avg")))


class Messages:
    """The write end of the pipe, as child_main uses it."""

    def __init__(self):
        self.sent = []

    def send(self, message):
        self.sent.append(message)


@pytest.fixture
def niceness(monkeypatch):
    """child_main lowers its own priority; run in this process, it must not lower the test's."""
    asked = []
    monkeypatch.setattr(os, "nice", asked.append)
    return asked


def child(trainer: str, folder: Path, stop=None) -> list:
    messages = Messages()
    supervisor.child_main(trainer, RUNS, DATA, folder, messages, stop or threading.Event())
    return messages.sent


def test_the_child_sends_each_runs_tagged_records_and_report_then_its_last_word(tmp_path, niceness):
    sent = child("tests.light_trainers:instant", tmp_path)
    assert niceness == [supervisor.CHILD_NICE]
    assert [(kind, index) for kind, index, _ in sent] == [
        ("run", 0), ("record", None), ("report", 0), ("run", 1), ("record", None), ("report", 1),
        ("done", None)]
    assert sent[1][2] == {"kind": "begin", "epochs": 2, "steps": 1, "run": "one"}
    assert sent[4][2]["run"] == "two" and sent[4][2]["epochs"] == 3
    result, predicted = sent[5][2]
    assert result.model_path == tmp_path / "two.keras" and result.message == "two.keras trained"
    assert result.model is None  # the model stays in the child: only its predictions travel
    assert predicted.tolist() == [2, 2, 2]  # ReadsTwo's reading of every test image
    assert sent[-1] == ("done", None, None)


def test_a_stop_before_a_run_starts_it_not(tmp_path, niceness):
    stop = threading.Event()
    stop.set()
    assert child("tests.light_trainers:instant", tmp_path, stop) == [("done", None, None)]


def test_a_failure_in_the_trainer_is_sent_in_words(tmp_path, niceness):
    sent = child("tests.fault_trainers:out_of_memory", tmp_path)
    assert sent == [("run", 0, None), ("failed", None, wording.describe_failure(MemoryError()))]
    missing = child("tests.fault_trainers:no_such_trainer", tmp_path)
    (kind, _, words), = missing
    assert kind == "failed" and "AttributeError" in words and "no_such_trainer" in words


def test_the_trainer_is_the_real_one_unless_the_server_is_told_another():
    """A browser test starts its server with KMNIST_TRAINER naming a stand-in; no one else sets it."""
    script = "from kmnist.jobs import supervisor; print(supervisor.TRAINER)"
    env = {k: v for k, v in os.environ.items() if k != supervisor.TRAINER_ENV}
    for told, trainer in (("", "kmnist.training.run:train"),
                          ("tests.fault_trainers:until_stopped", "tests.fault_trainers:until_stopped")):
        found = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True,
                               env=env | {supervisor.TRAINER_ENV: told}, timeout=120)
        assert found.stdout.strip() == trainer, found.stderr[-2000:]


@dataclass
class Job:
    """What ChildProcess needs of a job: its runs, data and folder; keep() and finish() as the ledger's."""

    folder: Path
    runs: tuple = RUNS[:1]
    data: SimpleNamespace = field(default_factory=lambda: DATA)
    number: int = 0
    kept: list = field(default_factory=list)
    ended: threading.Event = field(default_factory=threading.Event)
    outcome: tuple | None = None

    def keep(self, kind, index, payload):
        self.kept.append((kind, index))
        return (kind, payload) if kind in ("done", "failed") else (None, None)

    def finish(self, outcome, detail):
        assert self.outcome is None, "finish() came twice"
        self.outcome = (outcome, detail)
        self.ended.set()


def test_a_child_process_reports_everything_then_ends_the_job_once(tmp_path, monkeypatch):
    monkeypatch.setattr(supervisor, "TRAINER", "tests.light_trainers:instant")
    job = Job(tmp_path)
    process = supervisor.ChildProcess(job)
    assert process.start() and process.pid not in (None, os.getpid())
    assert job.ended.wait(120), "the child's end never reached the job"
    assert job.outcome == ("done", None)
    assert job.kept == [("run", 0), ("record", None), ("report", 0), ("done", None)]


def test_a_child_that_dies_without_a_last_word_fails_the_job_with_its_exit_status(tmp_path, monkeypatch):
    monkeypatch.setattr(supervisor, "TRAINER", "tests.fault_trainers:exits")
    job = Job(tmp_path)
    assert supervisor.ChildProcess(job).start()
    assert job.ended.wait(120), "the child's death never reached the job"
    assert job.outcome == ("failed", wording.death_message(3))
    assert job.kept == [("run", 0)]


def test_a_stop_that_comes_before_the_child_starts_is_kept(tmp_path, monkeypatch):
    monkeypatch.setattr(supervisor, "TRAINER", "tests.light_trainers:instant")
    job = Job(tmp_path)
    process = supervisor.ChildProcess(job)
    process.stop()  # the ledger has made the job running; Stop arrives before start() made the event
    assert process.start()
    assert job.ended.wait(120), "the child's end never reached the job"
    assert job.outcome == ("done", None) and job.kept == [("done", None)]  # no run was started
