"""Training jobs: validation, a child process per job, a queue with owners, records, Stop, failures."""

import os
import signal
import threading
import time
from dataclasses import replace
from types import SimpleNamespace

import numpy as np
import pytest

from kmnist.jobs import ledger as jobs
from kmnist.jobs import snapshots, supervisor, wording
from kmnist.network.config import TrainConfig
from kmnist.registry import store
from kmnist.registry.cards import Status
from kmnist.registry.store import card_path

QUICK = dict(epochs=1, limit=300, batch_size=64, augment=False, seed=3)



def wait_until(condition, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


FAKE_DATA = SimpleNamespace(y_train=np.zeros(7000, dtype="uint8"))


def test_problems_lists_every_bad_setting_and_name(tmp_path):
    (tmp_path / "taken.keras").write_bytes(b"model")
    runs = [snapshots.Run("taken", TrainConfig(epochs=0, learning_rate=0.0)),
            snapshots.Run("bad name!", TrainConfig()),
            snapshots.Run("twice", TrainConfig()), snapshots.Run("twice", TrainConfig())]
    found = jobs.problems(runs, FAKE_DATA, tmp_path)
    text = "\n".join(found)
    assert "taken: epochs must be a whole number from 1 to 1000, not 0" in text
    assert "taken: learning rate must be above 0" in text
    assert "'taken' already exists" in text
    assert "'bad name!' is not allowed" in text
    assert "'twice' is used twice" in text
    assert jobs.problems([snapshots.Run("fine", TrainConfig())], FAKE_DATA, tmp_path) == []
    assert jobs.problems([], FAKE_DATA, tmp_path)


def test_invalid_job_starts_nothing(tmp_path):
    before = jobs.current()
    with pytest.raises(jobs.JobError) as raised:
        jobs.start([snapshots.Run("x", TrainConfig(batch_size=10_000, limit=300))], "tester", FAKE_DATA, tmp_path)
    assert any("batch size 10000 is larger than the 240 training images" in p for p in raised.value.problems)
    assert jobs.current() is before
    assert list(tmp_path.iterdir()) == []


def test_pair_runs_differ_only_in_pooling():
    first, second = jobs.pair_runs("cmp", TrainConfig(epochs=4, seed=9, limit=500))
    assert (first.name, second.name) == ("cmp-max", "cmp-avg")
    assert (first.config.pooling, second.config.pooling) == ("max", "avg")
    assert {**vars(first.config), "pooling": None} == {**vars(second.config), "pooling": None}


def test_format_seconds_and_failure_wording():
    assert wording.format_seconds(5.4) == "5 s"
    assert wording.format_seconds(125) == "2 min 05 s"
    assert "ran out of memory" in wording.describe_failure(MemoryError())
    message = wording.describe_failure(RuntimeError("boom"))
    assert "RuntimeError: boom" in message and "Traceback" not in message


def test_pair_job_trains_both_runs_and_keeps_tagged_records(tmp_path, kmnist_data):
    job = jobs.start(jobs.pair_runs("pair", TrainConfig(**QUICK)), "tester", kmnist_data, tmp_path, pair=True)
    assert jobs.current() is job and job.pair
    assert job.wait(120)
    snap = job.snapshot()
    assert snap.state == snapshots.FINISHED and snap.error is None and not snap.active
    assert snap.progress.fraction == 1.0
    assert [r.name for r in snap.reports] == ["pair-max", "pair-avg"]
    for report in snap.reports:
        assert report.saved and report.result.model_path.is_file()
        assert card_path(report.result.model_path).is_file()
        assert report.predicted.shape == kmnist_data.y_test.shape
        assert report.labels is kmnist_data.y_test and report.images is kmnist_data.x_test  # kept with it
        assert report.result.card.config.pooling == report.name.split("-")[1]
    kinds = {(r["run"], r["kind"]) for r in snap.records}
    assert {("pair-max", "batch"), ("pair-avg", "epoch"), ("pair-avg", "end")} <= kinds
    with pytest.raises(TypeError):
        snap.records[0]["kind"] = "changed"  # records are read-only: the worker and the pages share them
    assert isinstance(snap.records, tuple)
    assert snap.report("pair-avg") is snap.reports[1]


def test_a_second_job_waits_its_turn_and_stop_in_epoch_one_saves_nothing(tmp_path, kmnist_data):
    job = jobs.start([snapshots.Run("slow", TrainConfig(**QUICK | dict(epochs=3, batch_size=8)))],
                     "Alice", kmnist_data, tmp_path)
    assert job.pid is not None and job.pid != os.getpid()  # trained in a process of its own
    later = jobs.start([snapshots.Run("other", TrainConfig(**QUICK))], "Bob", kmnist_data, tmp_path)
    assert later.state == snapshots.QUEUED and jobs.position(later) == 1 and later.pid is None
    assert wait_until(lambda: any(r["kind"] == "batch" for r in job.snapshot().records))
    job.stop(by="Alice")
    assert job.state in (snapshots.STOPPING, snapshots.STOPPED)
    assert job.wait(120)
    snap = job.snapshot()
    assert snap.state == snapshots.STOPPED
    assert snap.reports[0].result.status == "stopped-empty"
    assert "no model was saved" in snap.reports[0].result.message
    assert not snap.reports[0].saved and not (tmp_path / "slow.keras").exists()
    assert wait_until(lambda: later.pid is not None, 30)  # the next in line starts by itself
    assert jobs.current() is later and later.pid not in (None, job.pid)
    assert later.wait(120) and later.state == snapshots.FINISHED and (tmp_path / "other.keras").is_file()


def test_stop_after_an_epoch_keeps_the_best_checkpoint(tmp_path, kmnist_data):
    job = jobs.start([snapshots.Run("kept", TrainConfig(**QUICK | dict(epochs=4, batch_size=16, limit=400)))],
                     "tester", kmnist_data, tmp_path)
    assert wait_until(lambda: any(r["kind"] == "epoch" for r in job.snapshot().records))
    asked = time.monotonic()
    job.stop(by="tester")
    assert wait_until(lambda: any(r["kind"] == "end" for r in job.snapshot().records), 30)
    stopped_after = time.monotonic() - asked
    assert job.wait(120)
    snap = job.snapshot()
    result = snap.reports[0].result
    assert snap.state == snapshots.STOPPED and result.status == "stopped"
    assert result.model_path == tmp_path / "kept.keras" and result.model_path.is_file()
    assert result.card.status is Status.STOPPED and result.card.epochs_run < 4
    progress = snap.progress
    assert progress.epoch >= 1 and progress.steps == 20
    print(f"Stop -> training ended in the child: {stopped_after:.2f} s")


def test_a_child_killed_mid_epoch_leaves_the_server_up_and_its_card_interrupted(tmp_path, kmnist_data):
    job = jobs.start([snapshots.Run("killed", TrainConfig(**QUICK | dict(epochs=20, batch_size=16, limit=400)))],
                     "tester", kmnist_data, tmp_path)
    card = store.card_path(tmp_path / "killed.keras")
    assert wait_until(lambda: card.exists() and store.read_card(tmp_path / "killed.keras").best_epoch >= 1
                      and job.snapshot().progress.epoch >= 2, 120)
    os.kill(job.pid, signal.SIGKILL)
    assert job.wait(60)
    snap = job.snapshot()
    assert snap.state == snapshots.FAILED and "killed by signal SIGKILL" in snap.error
    assert "best checkpoint saved so far is kept" in snap.error
    entry = next(e for e in store.list_models(tmp_path) if e.name == "killed")
    assert entry.usable and "interrupted" in entry.problem  # its card says training never finished
    assert jobs.current() is job  # the server is free for the next job
    again = jobs.start([snapshots.Run("after", TrainConfig(**QUICK))], "tester", kmnist_data, tmp_path)
    assert again.state == snapshots.RUNNING


def test_an_exception_inside_the_child_becomes_a_message(tmp_path, kmnist_data):
    broken = replace(kmnist_data, x_train=kmnist_data.x_train[:, :27, :27])  # not what the network takes
    job = jobs.start([snapshots.Run("broken", TrainConfig(**QUICK))], "tester", broken, tmp_path)
    assert job.wait(120)
    snap = job.snapshot()
    assert snap.state == snapshots.FAILED and snap.error.startswith("Training failed (ValueError")
    assert not (tmp_path / "broken.keras").exists()
    again = jobs.start([snapshots.Run("fine", TrainConfig(**QUICK))], "tester", kmnist_data, tmp_path)
    assert again.state == snapshots.RUNNING  # the server is free again
    again.stop()
    assert again.wait(120)


def test_a_child_that_ignores_stop_is_ended_after_the_grace_period(tmp_path, kmnist_data, monkeypatch):
    monkeypatch.setattr(supervisor, "TRAINER", "tests.fault_trainers:deaf")
    monkeypatch.setattr(supervisor, "STOP_GRACE", 1.0)
    job = jobs.start([snapshots.Run("deaf", TrainConfig(**QUICK))], "tester", kmnist_data, tmp_path)
    deadline = time.monotonic() + 120
    while not (tmp_path / "deaf.deaf").exists():  # the child is inside the trainer (start-up can be slow)
        assert time.monotonic() < deadline, "the training process never started its trainer"
        time.sleep(0.05)
    job.stop()
    assert job.wait(30)
    assert job.state == snapshots.STOPPED and "did not stop within 1 s" in job.snapshot().error


def test_the_queue_is_first_in_first_out_limited_and_only_owners_stop_or_cancel(tmp_path, kmnist_data,
                                                                                monkeypatch):
    monkeypatch.setattr(supervisor, "TRAINER", "tests.fault_trainers:deaf")  # holds the line while we look
    monkeypatch.setattr(supervisor, "STOP_GRACE", 1.0)
    first = jobs.start([snapshots.Run("first", TrainConfig(**QUICK))], "Ann", kmnist_data, tmp_path,
                       owner_id="ann-session")
    line = [jobs.start([snapshots.Run(f"wait{n}", TrainConfig(**QUICK))], f"user{n}", kmnist_data, tmp_path,
                       owner_id=f"id{n}") for n in range(jobs.MAX_WAITING)]
    assert [jobs.position(job) for job in line] == list(range(1, jobs.MAX_WAITING + 1))
    assert jobs.waiting() == tuple(line)
    with pytest.raises(jobs.JobBusy, match="Ann is training first; 10 jobs already wait"):
        jobs.start([snapshots.Run("one-too-many", TrainConfig(**QUICK))], "Zed", kmnist_data, tmp_path)
    with pytest.raises(jobs.JobError, match="user3's job will save a model named 'wait3'"):
        jobs.start([snapshots.Run("wait3", TrainConfig(**QUICK))], "Zed", kmnist_data, tmp_path)
    with pytest.raises(jobs.NotOwner, match="only Ann"):
        first.stop(by="id0")
    with pytest.raises(jobs.NotOwner, match="only user4"):
        line[4].stop(by="ann-session")
    line[4].stop(by="id4")  # its owner cancels it
    assert line[4].state == snapshots.CANCELLED and line[4].wait(0)
    assert [jobs.position(job) for job in line] == [1, 2, 3, 4, 0, 5, 6, 7, 8, 9]
    for job in line:
        if job.state == snapshots.QUEUED:
            job.stop()
    first.stop(by="ann-session")
    assert first.wait(30) and jobs.waiting() == ()


def test_two_sessions_pressing_start_at_once_one_runs_the_other_waits(tmp_path, kmnist_data, monkeypatch):
    monkeypatch.setattr(supervisor, "TRAINER", "tests.fault_trainers:deaf")
    monkeypatch.setattr(supervisor, "STOP_GRACE", 1.0)
    started, barrier = [], threading.Barrier(2)

    def press(name):
        barrier.wait()
        started.append(jobs.start([snapshots.Run(name, TrainConfig(**QUICK))], name, kmnist_data, tmp_path))

    threads = [threading.Thread(target=press, args=(name,)) for name in ("left", "right")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(job.state for job in started) == [snapshots.QUEUED, snapshots.RUNNING]
    for job in sorted(started, key=lambda j: j.state != snapshots.QUEUED):
        job.stop()
        assert job.wait(30)


def test_an_estimated_start_follows_the_running_job(tmp_path, kmnist_data):
    job = jobs.start([snapshots.Run("timed", TrainConfig(**QUICK | dict(epochs=3, batch_size=16, limit=400)))],
                     "tester", kmnist_data, tmp_path)
    later = jobs.start([snapshots.Run("next", TrainConfig(**QUICK))], "tester", kmnist_data, tmp_path)
    assert jobs.position(later) == 1
    assert wait_until(lambda: job.snapshot().progress.eta is not None, 120)
    eta = jobs.estimated_start(later)
    assert eta is not None and eta >= job.snapshot().progress.eta * 0.5
    assert jobs.estimated_start(job) is None  # not waiting
    later.stop()
    job.stop()
    assert job.wait(120)


def test_progress_text_reads_naturally():
    progress = snapshots.Progress(run_index=2, runs=2, epoch=3, epochs=5, batch=7, steps=20, fraction=0.7,
                             elapsed=70, eta=30)
    assert progress.text == "run 2/2 · epoch 3/5 · batch 7/20 · 1 min 10 s elapsed · about 30 s left"
    waiting = snapshots.Progress(1, 1, 0, 5, 0, 0, 0.0, 3, None)
    assert "preparing data" in waiting.text


def test_seconds_left_projects_the_pace_between_two_batch_marks():
    assert snapshots.seconds_left(None, None, 100) is None
    assert snapshots.seconds_left((2, 10.0), (3, 10.5), 100) is None  # one batch apart: not yet
    assert snapshots.seconds_left((2, 10.0), (4, 11.0), 100) == 50.0  # 0.5 s per batch
    assert snapshots.seconds_left((2, 10.0), (4, 11.0), 0) == 0.0


def test_eta_is_finite_after_a_few_batches_and_ignores_the_slow_first_one(tmp_path):
    runs = jobs.pair_runs("eta", TrainConfig(epochs=2, limit=300))
    job = jobs.Job(runs, "tester", FAKE_DATA, tmp_path)
    job._state = snapshots.RUNNING  # as launch() leaves it, without a child process

    def batch(step, elapsed):
        job._keep("record", None, {"kind": "batch", "epoch": 1, "batch": step, "step": step,
                                   "elapsed": elapsed, "run": "eta-max"})

    job._keep("run", 0, None)
    job._keep("record", None, {"kind": "begin", "epochs": 2, "steps": 10, "run": "eta-max"})
    assert job.progress().eta is None
    batch(1, 30.0)  # building and compiling the train step: slow
    assert "estimating…" in job.progress().text
    batch(2, 30.1)
    batch(3, 30.2)
    assert job.progress().eta is None
    batch(4, 30.3)
    eta = job.progress().eta  # 0.1 s per batch: 16 left in this run and 20 in the avg run
    assert eta == pytest.approx(3.6) and "about 4 s left" in job.progress().text
    job._keep("run", 1, None)  # the next run measures its own pace
    assert job.progress().eta is None
