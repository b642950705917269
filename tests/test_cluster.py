"""The cluster executor against a real Dask cluster on 127.0.0.1: a scheduler and two workers, started and
stopped by these tests. A job streams its records and saves its model here; Stop; a worker killed
mid-run; the scheduler stopped mid-run; an address where nothing answers."""

import os
import signal
import time
from types import SimpleNamespace

import pytest

from kmnist.evaluation import metrics
from kmnist.jobs import cluster, executors, ledger, snapshots, supervisor
from kmnist.network.config import TrainConfig
from kmnist.registry import store
from tests.conftest import wait_until
from tests.dask_lab import LocalCluster, free_port
from tests.light_trainers import HELD_IN_EPOCH_2

TINY = dict(epochs=2, limit=300, batch_size=32, patience=5, seed=3)


@pytest.fixture
def lab(request):
    """A fresh cluster for each test (the faults below break it), used by the ledger as its executor;
    its workers warm up as in the app only where a test asks (parametrize "lab" with True)."""
    lab = LocalCluster()
    executor = lab.connect(warm=getattr(request, "param", False))
    before = ledger.executor()
    ledger.use(executor)
    yield lab, executor
    ledger.use(before)
    executor.cluster.close()
    lab.stop()


@pytest.mark.parametrize("lab", [True], indirect=True)
def test_a_job_on_the_cluster_streams_its_records_and_its_model_comes_back_and_stop_ends_the_next(
        lab, tmp_path, kmnist_data, monkeypatch):
    """One warmed cluster for both halves: a job that trains to the end, then one stopped at a held batch."""
    _, executor = lab
    job = ledger.start([snapshots.Run("remote", TrainConfig(**TINY))], "Aiko", kmnist_data, tmp_path)
    assert job.wait(240), "the job did not end"
    snap = job.snapshot()
    assert snap.state == snapshots.FINISHED, snap.error
    assert job.where and job.where.startswith("lab-")  # trained on a worker, which it names
    kinds = [record["kind"] for record in snap.records]
    assert kinds.count("batch") == 2 * 8 and kinds.count("epoch") == 2  # 240 images / 32 a batch, 2 epochs
    saved = store.model_path("remote", tmp_path)
    assert saved.exists() and store.onnx_path(saved).exists()
    card = store.read_card(saved)
    assert card.status.value == "complete" and card.test.count == len(kmnist_data.y_test)
    came_back = metrics.evaluate(store.load_model(saved), kmnist_data.x_test, kmnist_data.y_test)
    assert came_back["accuracy"] == pytest.approx(card.test.accuracy)  # the very model the worker tested
    [report] = snap.reports
    assert report.result.model_path == saved and len(report.predicted) == len(kmnist_data.y_test)
    assert not list(tmp_path.glob("*.tmp*"))  # written atomically: no temporary file is left
    # the workers joined after the app connected; each was warmed up by a tiny run of its own before any
    # job (kmnist.training.run.warm_up), so that the first job of a class takes as long as the others
    warm_ups = executor.cluster.warming
    assert sorted(warm_ups) == sorted(executor.cluster.workers())
    assert [future.result(timeout=60) for future in warm_ups.values()] == ["warm", "warm"]

    # Stop: the next job waits at a known batch of epoch 2 (tests.fault_trainers) until Stop ends it there
    monkeypatch.setattr(supervisor, "TRAINER", "tests.fault_trainers:held_in_epoch_2")
    job = ledger.start([snapshots.Run("stopped", TrainConfig(**TINY))], "Aiko", kmnist_data, tmp_path)
    epoch, batch = HELD_IN_EPOCH_2
    assert wait_until(lambda: job.progress().epoch == epoch and job.progress().batch == batch, 240)
    job.stop(by="Aiko")
    assert job.wait(60)
    assert job.state == snapshots.STOPPED
    card = store.read_card(store.model_path("stopped", tmp_path))
    assert card.status.value == "stopped" and card.best_epoch == 1  # epoch 1's model came back


def test_a_worker_killed_mid_run_fails_its_job_naming_the_worker_and_the_line_moves_on(
        lab, tmp_path, kmnist_data, monkeypatch):
    lab_cluster, executor = lab
    monkeypatch.setattr(supervisor, "TRAINER", "tests.light_trainers:held_in_epoch_2")  # no TensorFlow
    first = ledger.start([snapshots.Run("doomed", TrainConfig(**TINY))], "Aiko", kmnist_data, tmp_path)
    assert wait_until(lambda: first.where is not None and first.progress().epoch == 2, 240)
    address = first.where.split("(")[1].rstrip(")")
    pid = executor.cluster.client.run(os.getpid, workers=[address])[address]
    os.kill(pid, signal.SIGKILL)
    assert first.wait(30)
    assert first.state == snapshots.FAILED and first.where.split(" ")[0] in first.snapshot().error
    assert "died" in first.snapshot().error
    monkeypatch.setattr(supervisor, "TRAINER", "tests.light_trainers:instant")  # real runs: the test above
    after = ledger.start([snapshots.Run("after", TrainConfig(**TINY))], "Ben", kmnist_data, tmp_path)
    assert after.wait(240) and after.state == snapshots.FINISHED, after.snapshot().error


def test_the_scheduler_going_down_mid_run_fails_its_jobs_within_ten_seconds_and_says_the_line_is_lost(
        lab, tmp_path, kmnist_data, monkeypatch):
    lab_cluster, _ = lab
    monkeypatch.setattr(supervisor, "TRAINER", "tests.light_trainers:held_in_epoch_2")
    jobs = [ledger.start([snapshots.Run(f"run-{n}", TrainConfig(**TINY))], f"S{n}", kmnist_data, tmp_path)
            for n in range(4)]
    running, waiting = jobs[:2], jobs[2:]  # two workers, one thread each: two train, two wait
    assert ledger.waiting() == tuple(waiting)
    assert wait_until(lambda: all(job.progress().epoch == 2 for job in running), 240)
    os.killpg(lab_cluster.scheduler.pid, signal.SIGKILL)
    started = time.monotonic()
    for job in running:
        assert job.wait(15)
    assert time.monotonic() - started <= 10 + cluster.POLL
    for job in running:
        assert job.state == snapshots.FAILED and "stopped answering" in job.snapshot().error
        assert lab_cluster.address in job.snapshot().error
    for job in waiting:  # the line is not kept on a cluster that is gone, and each job says so
        assert job.wait(15) and job.state == snapshots.FAILED
        assert "was waiting" in job.snapshot().error and "not kept" in job.snapshot().error


def test_an_address_where_no_scheduler_answers_says_so_within_ten_seconds():
    address = f"tcp://127.0.0.1:{free_port()}"
    started = time.monotonic()
    with pytest.raises(cluster.ClusterError, match="cannot be reached") as refused:
        executors.from_settings({cluster.CLUSTER_ENV: address})
    assert time.monotonic() - started <= 10
    assert address in str(refused.value) and "dask scheduler" in str(refused.value)


class _Watched:
    """What ClusterRun._watch talks to, made up: the job's messages, the cluster's workers, its future."""

    def __init__(self, messages, workers):
        self.messages, self.workers_now, self.finished = list(messages), workers, []
        self.status = "pending"

    def get(self, timeout):  # the records queue
        if not self.messages:
            time.sleep(0.01)
            raise TimeoutError
        return self.messages.pop(0)

    def workers(self):
        return self.workers_now

    def cancel(self):
        self.status = "cancelled"


def watched_run(monkeypatch, messages, workers):
    """A ClusterRun whose _watch reads `messages` and sees `workers`; returns it, the Stops it told its
    task and the job's end."""
    fake, told = _Watched(messages, workers), []
    job = SimpleNamespace(number=7, finish=lambda *end: fake.finished.append(end))
    run = cluster.ClusterRun(job, SimpleNamespace(connected=True, workers=fake.workers, client=None))
    run._queue, run._future = fake, fake
    monkeypatch.setattr(run, "_tell_the_task_to_stop", lambda: told.append(True))
    run._watch()
    return run, told, fake.finished


LAB_1 = {"address": "tcp://10.0.0.1:4000", "name": "lab-1"}
LAB_2 = {"address": "tcp://10.0.0.2:4000", "name": "lab-2"}


def test_a_job_that_dask_runs_again_on_another_worker_fails_and_is_told_to_stop(monkeypatch):
    """Dask re-runs a task whose worker died on another worker; the app never lets a job train again
    behind its back: the second worker's first word fails the job, naming the first, and asks it to stop."""
    run, told, finished = watched_run(monkeypatch, [("where", None, LAB_1), ("where", None, LAB_2)],
                                      {LAB_1["address"]: 1, LAB_2["address"]: 1})
    ((outcome, detail),) = finished
    assert outcome == "failed" and "lab-1 (tcp://10.0.0.1:4000)" in detail and "died" in detail
    assert told == [True]


def test_a_job_whose_worker_died_tells_its_task_to_stop_so_a_copy_run_again_elsewhere_stops(monkeypatch):
    """The worker's death seen before Dask's copy speaks: the copy, started on the only other worker, must
    still stop, or it holds that worker and the line never moves (a suite run under load waited 240 s)."""
    run, told, finished = watched_run(monkeypatch, [("where", None, LAB_1)], {LAB_2["address"]: 1})
    ((outcome, detail),) = finished
    assert outcome == "failed" and "lab-1" in detail and "died" in detail
    assert told == [True]
