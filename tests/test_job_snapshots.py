"""kmnist.jobs.snapshots: runs, reports, progress and snapshots as the pages read them; the ETA's pace."""

from pathlib import Path

import pytest

from kmnist.jobs import snapshots
from kmnist.network.config import TrainConfig
from kmnist.training.result import STOPPED_EMPTY, TrainResult


def progress(**values) -> snapshots.Progress:
    fields = dict(run_index=1, runs=1, epoch=1, epochs=2, batch=1, steps=10, fraction=0.05, elapsed=1.0,
                  eta=None)
    return snapshots.Progress(**fields | values)


def snapshot(state: str, reports=()) -> snapshots.Snapshot:
    runs = (snapshots.Run("a-max", TrainConfig()), snapshots.Run("a-avg", TrainConfig(pooling="avg")))
    return snapshots.Snapshot(number=1, runs=runs, owner="Ann", owner_id="ann", queued_at=0.0, started_at=1.0,
                              state=state,
                              records=(), reports=tuple(reports), error=None, progress=progress(),
                              current_run="a-max")


def test_the_states_that_count_as_active_and_open():
    assert snapshots.ACTIVE == (snapshots.RUNNING, snapshots.STOPPING)
    assert snapshots.OPEN == (snapshots.QUEUED, snapshots.RUNNING, snapshots.STOPPING)
    assert [snapshot(state).active for state in (snapshots.QUEUED, snapshots.RUNNING, snapshots.STOPPING,
                                                 snapshots.FINISHED, snapshots.STOPPED)] == [
        False, True, True, False, False]


def test_a_snapshot_names_its_runs_and_finds_a_report_by_name():
    saved = snapshots.RunReport("a-avg", TrainResult("complete", "kept", model_path=Path("m/a-avg.keras")))
    empty = snapshots.RunReport("a-max", TrainResult(STOPPED_EMPTY, "no model was saved"))
    snap = snapshot(snapshots.FINISHED, [empty, saved])
    assert snap.names == ["a-max", "a-avg"]
    assert snap.report("a-avg") is saved and snap.report("a-max") is empty and snap.report("nope") is None
    assert saved.saved and not empty.saved
    with pytest.raises(AttributeError):
        snap.state = snapshots.RUNNING  # frozen: nothing in it changes while the pages read it


def test_progress_text_reads_naturally():
    assert (progress(run_index=2, runs=2, epoch=3, epochs=5, batch=7, steps=20, elapsed=70, eta=30).text
            == "run 2/2 · epoch 3/5 · batch 7/20 · 1 min 10 s elapsed · about 30 s left")
    assert "preparing data" in progress(epoch=0, batch=0, steps=0, elapsed=3).text


def test_seconds_left_projects_the_pace_between_two_batch_marks():
    assert snapshots.seconds_left(None, None, 100) is None
    assert snapshots.seconds_left((2, 10.0), None, 100) is None
    assert snapshots.seconds_left((2, 10.0), (3, 10.5), 100) is None  # one batch apart: not yet
    assert snapshots.seconds_left((2, 10.0), (4, 11.0), 100) == 50.0  # 0.5 s per batch
    assert snapshots.seconds_left((2, 10.0), (4, 11.0), 0) == 0.0
    assert snapshots.seconds_left((2, 10.0), (4, 11.0), -5) == 0.0  # never negative
