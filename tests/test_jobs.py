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
from kmnist.jobs.job import NotOwner
from kmnist.network.config import TrainConfig
from kmnist.registry import store
from kmnist.registry.cards import Status
from kmnist.registry.store import card_path
from kmnist.training.result import STOPPED_EMPTY
from tests.conftest import wait_until
from tests.fault_trainers import HELD_IN_EPOCH_1, HELD_IN_EPOCH_2

QUICK = dict(epochs=1, limit=300, batch_size=64, augment=False, seed=3)



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
        jobs.start([snapshots.Run("x", TrainConfig(batch_size=10_000, limit=300))], "tester", FAKE_DATA,
                   tmp_path)
    assert any("batch size 10000 is larger than the 240 training images" in p for p in raised.value.problems)
    assert jobs.current() is before
    assert list(tmp_path.iterdir()) == []


def test_pair_runs_differ_only_in_pooling():
    first, second = jobs.pair_runs("cmp", TrainConfig(epochs=4, seed=9, limit=500))
    assert (first.name, second.name) == ("cmp-max", "cmp-avg")
    assert (first.config.pooling, second.config.pooling) == ("max", "avg")
    assert {**vars(first.config), "pooling": None} == {**vars(second.config), "pooling": None}


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


def batch_records(job) -> list[tuple[int, int]]:
    """(epoch, batch) of every batch record the job has kept so far."""
    return [(r["epoch"], r["batch"]) for r in job.snapshot().records if r["kind"] == "batch"]


def held(job, at: tuple[int, int]) -> bool:
    """Whether the job's child has reached batch `at` of a held trainer (where it waits for Stop)."""
    return at in batch_records(job)


def test_a_second_job_waits_its_turn_and_stop_in_epoch_one_saves_nothing(tmp_path, kmnist_data, monkeypatch):
    trainer = supervisor.TRAINER
    monkeypatch.setattr(supervisor, "TRAINER", "tests.fault_trainers:held_in_epoch_1")
    job = jobs.start([snapshots.Run("slow", TrainConfig(**QUICK | dict(epochs=3, batch_size=8)))],
                     "Alice", kmnist_data, tmp_path)
    assert job.pid is not None and job.pid != os.getpid()  # trained in a process of its own
    later = jobs.start([snapshots.Run("other", TrainConfig(**QUICK))], "Bob", kmnist_data, tmp_path)
    assert later.state == snapshots.QUEUED and jobs.position(later) == 1 and later.pid is None
    assert wait_until(lambda: held(job, HELD_IN_EPOCH_1), 120)
    monkeypatch.setattr(supervisor, "TRAINER", trainer)  # the next in line trains for real
    job.stop(by="Alice")
    assert job.state in (snapshots.STOPPING, snapshots.STOPPED)
    assert job.wait(120)
    snap = job.snapshot()
    assert snap.state == snapshots.STOPPED
    assert batch_records(job) == [(1, batch) for batch in range(1, HELD_IN_EPOCH_1[1] + 1)]  # no batch after
    end = next(r for r in snap.records if r["kind"] == "end")
    assert end["stopped"] and end["epochs_done"] == 0
    assert [r.get("interrupted") for r in snap.records if r["kind"] == "epoch"] == [True]  # not validated
    assert snap.reports[0].result.status == STOPPED_EMPTY
    assert "no model was saved" in snap.reports[0].result.message
    assert not snap.reports[0].saved and not (tmp_path / "slow.keras").exists()
    assert not store.card_path(tmp_path / "slow.keras").exists()
    assert wait_until(lambda: later.pid is not None, 30)  # the next in line starts by itself
    assert jobs.current() is later and later.pid not in (None, job.pid)
    assert later.wait(120) and later.state == snapshots.FINISHED and (tmp_path / "other.keras").is_file()


def test_stop_in_epoch_two_keeps_the_checkpoint_of_epoch_one(tmp_path, kmnist_data, monkeypatch):
    monkeypatch.setattr(supervisor, "TRAINER", "tests.fault_trainers:held_in_epoch_2")
    job = jobs.start([snapshots.Run("kept", TrainConfig(**QUICK | dict(epochs=4, batch_size=16, limit=400)))],
                     "tester", kmnist_data, tmp_path)
    assert wait_until(lambda: held(job, HELD_IN_EPOCH_2), 120)
    job.stop(by="tester")
    assert job.wait(120)
    snap = job.snapshot()
    result = snap.reports[0].result
    assert snap.state == snapshots.STOPPED and result.status == Status.STOPPED
    assert batch_records(job)[-1] == HELD_IN_EPOCH_2 and len(batch_records(job)) == 20 + HELD_IN_EPOCH_2[1]
    assert [r.get("interrupted", False) for r in snap.records if r["kind"] == "epoch"] == [False, True]
    assert result.model_path == tmp_path / "kept.keras" and result.model_path.is_file()
    card = store.read_card(result.model_path)
    assert card.status == Status.STOPPED and card.best_epoch == 1 and card.epochs_run == 1
    assert f"best epoch 1 of 1 kept in {result.model_path}" in result.message
    progress = snap.progress
    assert (progress.epoch, progress.batch, progress.steps) == (*HELD_IN_EPOCH_2, 20)


def test_a_child_killed_mid_epoch_leaves_the_server_up_and_its_card_interrupted(tmp_path, kmnist_data,
                                                                                monkeypatch):
    trainer = supervisor.TRAINER
    monkeypatch.setattr(supervisor, "TRAINER", "tests.fault_trainers:held_in_epoch_2")
    config = TrainConfig(**QUICK | dict(epochs=20, batch_size=16, limit=400))
    job = jobs.start([snapshots.Run("killed", config)], "tester", kmnist_data, tmp_path)
    assert wait_until(lambda: held(job, HELD_IN_EPOCH_2), 120)  # epoch 1's checkpoint is saved by then
    os.kill(job.pid, signal.SIGKILL)
    assert job.wait(60)
    snap = job.snapshot()
    assert snap.state == snapshots.FAILED and "killed by signal SIGKILL" in snap.error
    assert "best checkpoint saved so far is kept" in snap.error
    card = store.read_card(tmp_path / "killed.keras")
    assert card.status == Status.TRAINING and card.best_epoch == 1  # the run never got to say how it ended
    entry = next(e for e in store.list_models(tmp_path) if e.name == "killed")
    assert entry.usable and "interrupted" in entry.problem  # its card says training never finished
    assert jobs.current() is job  # the server is free for the next job
    monkeypatch.setattr(supervisor, "TRAINER", trainer)
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


def test_the_stop_clock_gives_training_the_grace_period_not_the_saving_after_it(monkeypatch):
    monkeypatch.setattr(supervisor, "STOP_GRACE", 0.5)
    clock = supervisor.StopClock()  # the one both executors use
    time.sleep(0.6)
    assert clock.overdue() == 0  # no Stop asked
    clock.ask()
    time.sleep(0.6)
    assert clock.overdue() > 0
    clock.saw("record", {"kind": "end", "stopped": True})  # training ended: the model is being kept
    assert clock.overdue() == 0
    clock.saw("run", None)  # a next run began after Stop: the full period again
    assert clock.overdue() == 0
    time.sleep(0.6)
    assert clock.overdue() > 0


def test_a_run_that_stopped_training_may_take_longer_than_the_grace_period_to_keep_its_model(
        tmp_path, kmnist_data, monkeypatch):
    monkeypatch.setattr(supervisor, "TRAINER", "tests.light_trainers:slow_to_finish")
    monkeypatch.setattr(supervisor, "STOP_GRACE", 1.0)  # shorter than its FINISH_SECONDS
    job = jobs.start([snapshots.Run("slow", TrainConfig(**QUICK))], "tester", kmnist_data, tmp_path)
    assert wait_until(lambda: (tmp_path / "slow.training").exists(), 120), "the trainer never started"
    job.stop()
    assert job.wait(60)
    snap = job.snapshot()
    assert snap.state == snapshots.STOPPED and snap.error is None, snap.error
    assert [report.result.message for report in snap.reports] == ["slow.keras kept"]


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
    with pytest.raises(jobs.JobBusy, match=f"Ann is training first; {jobs.MAX_WAITING} jobs already wait"):
        jobs.start([snapshots.Run("one-too-many", TrainConfig(**QUICK))], "Zed", kmnist_data, tmp_path)
    with pytest.raises(jobs.JobError, match="user3's job will save a model named 'wait3'"):
        jobs.start([snapshots.Run("wait3", TrainConfig(**QUICK))], "Zed", kmnist_data, tmp_path)
    with pytest.raises(NotOwner, match="only Ann"):
        first.stop(by="id0")
    with pytest.raises(NotOwner, match="only user4"):
        line[4].stop(by="ann-session")
    line[4].stop(by="id4")  # its owner cancels it
    assert line[4].state == snapshots.CANCELLED and line[4].wait(0)
    assert [jobs.position(job) for job in line] == [1, 2, 3, 4, 0, *range(5, jobs.MAX_WAITING)]
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


def test_an_estimated_start_is_what_is_left_of_the_running_job(tmp_path, kmnist_data, monkeypatch):
    monkeypatch.setattr(jobs, "_ledger", jobs.Ledger())  # no pace learnt from other tests' jobs
    monkeypatch.setattr(supervisor, "TRAINER", "tests.fault_trainers:held_in_epoch_2")
    config = TrainConfig(**QUICK | dict(epochs=3, batch_size=16, limit=400))
    job = jobs.start([snapshots.Run("timed", config)], "tester", kmnist_data, tmp_path)
    later = jobs.start([snapshots.Run("next", TrainConfig(**QUICK))], "tester", kmnist_data, tmp_path)
    assert jobs.position(later) == 1
    assert wait_until(lambda: held(job, HELD_IN_EPOCH_2), 120)  # the pace, an epoch's end included, is known
    before = time.perf_counter()
    eta = job.progress().eta
    start = jobs.estimated_start(later)
    counted_down = time.perf_counter() - before  # the ETA counts down between batches
    assert eta is not None and start is not None
    # first in line: it starts when the running job ends, its last batch plus what follows it, guessed
    # (no job has ended yet) to take as long as what came before its first batch
    tail = job.startup()
    assert 0 < tail < 120
    assert max(0.0, eta - counted_down) + tail <= start <= eta + tail
    assert jobs.estimated_start(job) == 0.0  # running already
    later.stop()
    job.stop()
    assert job.wait(120)


def test_eta_is_finite_after_a_few_batches_and_ignores_the_slow_first_one(tmp_path):
    runs = jobs.pair_runs("eta", TrainConfig(epochs=2, limit=300))
    job = jobs.Job(runs, "tester", FAKE_DATA, tmp_path)
    job._state = snapshots.RUNNING  # as launch() leaves it, without a child process

    def batch(step, elapsed):
        job.keep("record", None, {"kind": "batch", "epoch": 1, "batch": step, "step": step,
                                  "elapsed": elapsed, "run": "eta-max"})

    job.keep("run", 0, None)
    job.keep("record", None, {"kind": "begin", "epochs": 2, "steps": 10, "run": "eta-max"})
    assert job.progress().eta is None
    batch(1, 30.0)  # building and compiling the train step: slow
    assert "estimating…" in job.progress().text
    batch(2, 30.1)
    batch(3, 30.2)
    assert job.progress().eta is None
    before = time.perf_counter()
    batch(4, 30.3)
    progress = job.progress()  # 0.1 s per batch: 16 left in this run and 20 in the avg run, counted down
    assert 3.6 - (time.perf_counter() - before) - 1e-9 <= progress.eta <= 3.6 + 1e-9  # since batch 4 came
    assert progress.text.endswith(f"about {wording.format_seconds(progress.eta)} left")
    job.keep("run", 1, None)  # the next run measures its own pace
    assert job.progress().eta is None
