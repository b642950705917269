"""AppTest of a class on the Training page: 30 sessions press Start on the default form and all get a place
under names of their own; the page says where jobs train, and what to do when the cluster it names is down."""

import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from kmnist.jobs import cluster, executors, ledger, supervisor
from kmnist.ui import classroom
from tests.dask_lab import LocalCluster, free_port

PAGES = Path(__file__).resolve().parent.parent / "pages"


def open_page(name: str) -> AppTest:
    return AppTest.from_file(str(PAGES / f"{name}.py"), default_timeout=120).run()


def shown(at) -> str:
    kinds = ("error", "warning", "info", "caption", "markdown")
    return " ".join(element.value for kind in kinds for element in at.get(kind))


@pytest.fixture
def quiet_line(monkeypatch):
    """The ledger empty before and after; any job left is cancelled or stopped."""
    monkeypatch.setattr(ledger, "_ledger", ledger.Ledger(executors.LocalExecutor(1)))
    yield
    for job in [*ledger.waiting(), *ledger.running()]:
        job.stop()
    for job in ledger.running():
        assert job.wait(120)


def test_thirty_students_press_start_on_the_default_form_and_none_is_refused(models_copy, kmnist_data,
                                                                            quiet_line, monkeypatch):
    monkeypatch.setattr(supervisor, "TRAINER", "tests.light_trainers:held_in_epoch_1")  # the first holds
    owners = []
    for _ in range(30):
        at = open_page("training")
        at.button(key="start").click().run()
        assert not at.exception and not at.error, shown(at)
        assert "Not started" not in shown(at)
        owners.append(at.session_state[classroom.keys.STUDENT_LABEL])
    jobs = [*ledger.running(), *ledger.waiting()]
    names = [job.runs[0].name for job in jobs]
    assert len(jobs) == 30 and len(set(names)) == 30, names
    assert len(set(owners)) == 30 and {job.owner for job in jobs} == set(owners)  # "Student N", each its own
    assert all(name.startswith("my-model-max") for name in names)
    assert [ledger.position(job) for job in ledger.waiting()] == list(range(1, 30))


def test_a_student_s_name_is_their_owner_name_and_their_model_name(models_copy, kmnist_data, quiet_line,
                                                                  monkeypatch):
    monkeypatch.setattr(supervisor, "TRAINER", "tests.light_trainers:held_in_epoch_1")
    at = open_page("training")
    at.text_input(key=classroom.keys.STUDENT_NAME).set_value("Aiko Tanaka").run()
    at.button(key="start").click().run()
    [job] = ledger.running()
    assert job.owner == "Aiko Tanaka" and job.runs[0].name == "aiko-tanaka-max"
    assert "by **Aiko Tanaka** · started at" in shown(at)


def test_the_page_says_where_jobs_train_locally(models_copy, kmnist_data, quiet_line, monkeypatch):
    monkeypatch.delenv(cluster.CLUSTER_ENV, raising=False)
    at = open_page("training")
    assert "Training runs on this server, 1 job at a time" in shown(at)
    assert not at.button(key="start").disabled


def test_the_page_names_the_cluster_and_its_workers(models_copy, kmnist_data, quiet_line, monkeypatch):
    lab = LocalCluster(workers=2)
    try:
        monkeypatch.setenv(cluster.CLUSTER_ENV, lab.address)
        lab.connect().cluster.close()  # the scheduler and both workers are up
        at = open_page("training")
        assert not at.exception and not at.error, shown(at)
        expected = f"Training runs on the Dask cluster at {lab.address}: 2 workers (lab-1, lab-2), 2 jobs"
        assert expected in shown(at)
        assert ledger.executor().kind == "cluster"
    finally:
        ledger.executor().cluster.close()
        lab.stop()


def test_an_unreachable_cluster_is_reported_within_ten_seconds_and_other_pages_still_work(
        models_copy, kmnist_data, quiet_line, monkeypatch):
    address = f"tcp://127.0.0.1:{free_port()}"
    monkeypatch.setenv(cluster.CLUSTER_ENV, address)
    monkeypatch.setattr(classroom, "_last_try", {"at": 0.0, "error": None})
    started = time.monotonic()
    at = open_page("training")
    assert time.monotonic() - started < 10 + 5  # the connection gives up after 5 s; the page renders
    assert not at.exception
    text = " ".join(e.value for e in at.error)
    assert "Training cannot start right now" in text and address in text and "dask scheduler" in text
    assert at.button(key="start").disabled
    again = time.monotonic()
    open_page("training")  # within RETRY_SECONDS the page does not wait on the cluster again
    assert time.monotonic() - again < 5
    home = open_page("home")
    assert not home.exception and not home.error
