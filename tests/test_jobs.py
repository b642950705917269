"""Background training jobs: validation before start, one job at a time, records, Stop, failures."""

import time
from types import SimpleNamespace

import numpy as np
import pytest

from kmnist import jobs, training
from kmnist.store import card_path
from kmnist.training import TrainConfig

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
    runs = [jobs.Run("taken", TrainConfig(epochs=0, learning_rate=0.0)),
            jobs.Run("bad name!", TrainConfig()),
            jobs.Run("twice", TrainConfig()), jobs.Run("twice", TrainConfig())]
    found = jobs.problems(runs, FAKE_DATA, tmp_path)
    text = "\n".join(found)
    assert "taken: epochs must be a whole number from 1 to 1000, not 0" in text
    assert "taken: learning rate must be above 0" in text
    assert "'taken' already exists" in text
    assert "'bad name!' is not allowed" in text
    assert "'twice' is used twice" in text
    assert jobs.problems([jobs.Run("fine", TrainConfig())], FAKE_DATA, tmp_path) == []
    assert jobs.problems([], FAKE_DATA, tmp_path)


def test_invalid_job_starts_nothing(tmp_path):
    before = jobs.current()
    with pytest.raises(jobs.JobError) as raised:
        jobs.start([jobs.Run("x", TrainConfig(batch_size=10_000, limit=300))], "tester", FAKE_DATA, tmp_path)
    assert any("batch size 10000 is larger than the 240 training images" in p for p in raised.value.problems)
    assert jobs.current() is before
    assert list(tmp_path.iterdir()) == []


def test_pair_runs_differ_only_in_pooling():
    first, second = jobs.pair_runs("cmp", TrainConfig(epochs=4, seed=9, limit=500))
    assert (first.name, second.name) == ("cmp-max", "cmp-avg")
    assert (first.config.pooling, second.config.pooling) == ("max", "avg")
    assert {**vars(first.config), "pooling": None} == {**vars(second.config), "pooling": None}


def test_format_seconds_and_failure_wording():
    assert jobs.format_seconds(5.4) == "5 s"
    assert jobs.format_seconds(125) == "2 min 05 s"
    assert "ran out of memory" in jobs.describe_failure(MemoryError())
    message = jobs.describe_failure(RuntimeError("boom"))
    assert "RuntimeError: boom" in message and "Traceback" not in message


def test_pair_job_trains_both_runs_and_keeps_tagged_records(tmp_path, kmnist_data):
    job = jobs.start(jobs.pair_runs("pair", TrainConfig(**QUICK)), "tester", kmnist_data, tmp_path, pair=True)
    assert jobs.current() is job and job.pair
    assert job.wait(120)
    snap = job.snapshot()
    assert snap.state == jobs.FINISHED and snap.error is None and not snap.active
    assert snap.progress.fraction == 1.0
    assert [r.name for r in snap.reports] == ["pair-max", "pair-avg"]
    for report in snap.reports:
        assert report.saved and report.result.model_path.is_file()
        assert card_path(report.result.model_path).is_file()
        assert report.predicted.shape == kmnist_data.y_test.shape
        assert report.labels is kmnist_data.y_test and report.images is kmnist_data.x_test  # kept with it
        assert report.result.card["config"]["pooling"] == report.name.split("-")[1]
    kinds = {(r["run"], r["kind"]) for r in snap.records}
    assert {("pair-max", "batch"), ("pair-avg", "epoch"), ("pair-avg", "end")} <= kinds
    with pytest.raises(TypeError):
        snap.records[0]["kind"] = "changed"  # records are read-only: the worker and the pages share them
    assert isinstance(snap.records, tuple)
    assert snap.report("pair-avg") is snap.reports[1]


def test_second_job_is_refused_and_stop_in_epoch_one_saves_nothing(tmp_path, kmnist_data):
    job = jobs.start([jobs.Run("slow", TrainConfig(**QUICK | dict(epochs=3, batch_size=8)))],
                     "Alice", kmnist_data, tmp_path)
    with pytest.raises(jobs.JobBusy, match="Alice is training slow"):
        jobs.start([jobs.Run("other", TrainConfig(**QUICK))], "Bob", kmnist_data, tmp_path)
    assert wait_until(lambda: any(r["kind"] == "batch" for r in job.snapshot().records))
    job.stop()
    assert job.state in (jobs.STOPPING, jobs.STOPPED)
    assert job.wait(120)
    snap = job.snapshot()
    assert snap.state == jobs.STOPPED
    assert snap.reports[0].result.status == "stopped-empty"
    assert "no model was saved" in snap.reports[0].result.message
    assert not snap.reports[0].saved and not (tmp_path / "slow.keras").exists()


def test_stop_after_an_epoch_keeps_the_best_checkpoint(tmp_path, kmnist_data):
    job = jobs.start([jobs.Run("kept", TrainConfig(**QUICK | dict(epochs=4, batch_size=16, limit=400)))],
                     "tester", kmnist_data, tmp_path)
    assert wait_until(lambda: any(r["kind"] == "epoch" for r in job.snapshot().records))
    job.stop()
    assert job.wait(120)
    snap = job.snapshot()
    result = snap.reports[0].result
    assert snap.state == jobs.STOPPED and result.status == "stopped"
    assert result.model_path == tmp_path / "kept.keras" and result.model_path.is_file()
    assert result.card["status"] == "stopped" and result.card["epochs_run"] < 4
    progress = snap.progress
    assert progress.epoch >= 1 and progress.steps == 20


def test_exception_inside_training_becomes_a_message(tmp_path, kmnist_data, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("the GPU caught fire")

    monkeypatch.setattr(training, "train", broken)
    job = jobs.start([jobs.Run("broken", TrainConfig(**QUICK))], "tester", kmnist_data, tmp_path)
    assert job.wait(30)
    snap = job.snapshot()
    assert snap.state == jobs.FAILED
    assert "the GPU caught fire" in snap.error and snap.error.startswith("Training failed")
    # the server is free again
    monkeypatch.undo()
    again = jobs.start([jobs.Run("fine", TrainConfig(**QUICK))], "tester", kmnist_data, tmp_path)
    again.stop()
    assert again.wait(120)


def test_progress_text_reads_naturally():
    progress = jobs.Progress(run_index=2, runs=2, epoch=3, epochs=5, batch=7, steps=20, fraction=0.7,
                             elapsed=70, eta=30)
    assert progress.text == "run 2/2 · epoch 3/5 · batch 7/20 · 1 min 10 s elapsed · about 30 s left"
    waiting = jobs.Progress(1, 1, 0, 5, 0, 0, 0.0, 3, None)
    assert "preparing data" in waiting.text
