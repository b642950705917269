"""The Dataset explorer's background maps (kmnist.ui.map_tasks, kmnist.ui.maps): each computed once per copy
of the data, concurrent requests sharing it, in a child process, with progress and failures kept."""

import os
import threading
import time
from functools import partial
from pathlib import Path

import numpy as np
import pytest

from kmnist.data import explore
from kmnist.ui import map_tasks
from kmnist.ui.map_tasks import ChildProcess, InThread, MapError, MapWork


@pytest.fixture
def in_thread(monkeypatch):
    """Tasks computed in the worker thread itself, so that a test's stand-in computations run as given."""
    monkeypatch.setattr(map_tasks, "RUNNER", InThread)


def gated(gate: threading.Event, calls: list, value, report):
    """A stand-in computation: reports half-way, waits for `gate`, then gives `value`."""
    calls.append(value)
    report(0.5, "half-way")
    assert gate.wait(30), "the test never opened the gate"
    return value


def test_concurrent_requests_for_a_map_share_one_computation(in_thread):
    work, gate, calls = MapWork("test"), threading.Event(), []
    start, tasks = threading.Barrier(8), []

    def ask():
        start.wait()
        tasks.append(work.request(("pixels", "a"), partial(gated, gate, calls, "map a"), "map a"))

    askers = [threading.Thread(target=ask) for _ in range(8)]
    for asker in askers:
        asker.start()
    for asker in askers:
        asker.join(10)
    assert len(tasks) == 8 and all(task is tasks[0] for task in tasks)  # one task for every session
    task = tasks[0]
    deadline = time.monotonic() + 10
    while task.stage != "half-way" and time.monotonic() < deadline:
        time.sleep(0.01)
    assert (task.fraction, task.stage, task.done) == (0.5, "half-way", False)  # running: progress shows
    other = work.request(("pixels", "b"), partial(gated, gate, calls, "map b"), "map b")
    assert other.stage == map_tasks.WAITING and other.seconds() == 0  # one map at a time, in order
    gate.set()
    assert task.wait(10) and other.wait(10)
    assert (task.result, other.result, task.error) == ("map a", "map b", None)
    assert calls == ["map a", "map b"]  # each computed once
    assert work.request(("pixels", "a"), partial(gated, gate, calls, "again"), "map a") is task
    assert calls == ["map a", "map b"] and task.seconds() > 0


def failing(error, report):
    report(0.2, "trying")
    raise error


def test_a_failure_is_kept_with_its_reason_and_computed_again_only_when_asked(in_thread):
    work = MapWork("test")
    task = work.request("k", partial(failing, RuntimeError("out of memory")), "map k")
    assert task.wait(10) and task.failed
    assert task.error == "RuntimeError: out of memory" and task.result is None
    assert work.request("k", partial(failing, ValueError("never")), "map k") is task  # not tried again
    person = work.request("v", partial(failing, ValueError("model flat has no hidden Dense layer")), "v")
    assert person.wait(10) and person.error == "model flat has no hidden Dense layer"  # our words, as is

    work.forget("k")  # Try again
    gate = threading.Event()
    again = work.request("k", partial(gated, gate, [], "fine"), "map k")
    assert again is not task
    work.forget("k")  # a task still waiting or computing is kept
    assert work.get("k") is again
    gate.set()
    assert again.wait(10) and again.result == "fine" and not again.failed


def test_one_map_work_per_copy_of_the_data():
    from kmnist.ui import maps

    maps.shared_work.clear()
    assert maps.shared_work("copy-a") is maps.shared_work("copy-a")
    assert maps.shared_work("copy-a") is not maps.shared_work("copy-b")


def whoami(report):
    report(0.5, "asked")
    return os.getpid(), os.nice(0)


def crash(report):
    report(0.1, "crashing")
    os._exit(3)


def test_the_child_process_computes_reports_and_says_why_it_failed(synthetic, monkeypatch, tmp_path):
    images, labels = synthetic
    # the child imports this module to run whoami and crash: the folder pytest imported it from
    monkeypatch.setenv("PYTHONPATH", str(Path(__file__).parent))
    child, heard = ChildProcess(), []
    try:
        mapped = child.run(map_tasks.pixel_map(images, labels, "PCA", None, (tmp_path, "sheets")),
                           lambda fraction, stage: heard.append((round(fraction, 2), stage)))
        expected = explore.map_2d(images, labels, "PCA")
        np.testing.assert_allclose(mapped.coordinates, expected.coordinates, rtol=1e-4, atol=1e-4)
        assert mapped.axes == expected.axes and mapped.agreement == expected.agreement
        assert heard[0] == (0.0, "PCA of 40 images") and heard[-1] == (0.9, "drawing the hover thumbnails")
        assert sorted(p.name for p in tmp_path.iterdir()) == ["sheets-0.png"]  # the hover sprite sheet

        pid, nice = child.run(whoami, lambda *args: None)
        assert pid != os.getpid() and nice == os.nice(0) + map_tasks.CHILD_NICE  # apart, and lower
        with pytest.raises(MapError, match="unknown map method 'UMAP'"):
            child.run(map_tasks.pixel_map(images, labels, "UMAP", None), lambda *args: None)
        assert child.run(whoami, lambda *args: None)[0] == pid  # the same child goes on after an error
        with pytest.raises(MapError, match=r"ended unexpectedly \(exit status 3\)"):
            child.run(crash, lambda *args: None)
        assert child.run(whoami, lambda *args: None)[0] not in (pid, os.getpid())  # a new child
    finally:
        child.close()


def test_the_worker_computes_in_a_child_and_ends_it_when_idle(synthetic, monkeypatch):
    images, labels = synthetic
    monkeypatch.setattr(map_tasks, "IDLE_SECONDS", 0.5)
    started = []

    class Watched(ChildProcess):
        def _start(self):
            super()._start()
            started.append(self._process)

    monkeypatch.setattr(map_tasks, "RUNNER", Watched)
    work = MapWork("test")
    task = work.request("pca", map_tasks.pixel_map(images, labels, "PCA", None), "PCA map")
    assert task.wait(120) and not task.failed, task.error
    assert isinstance(task.result, explore.Map2D) and len(task.result.positions) == 40
    assert len(started) == 1 and started[0].wait(30) == 0  # idle: the child was ended, and ended well
