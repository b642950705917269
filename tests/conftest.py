"""Shared fixtures (the real-data folder, a tiny trained model, a temporary models folder) and the run's
measured figures."""

import fcntl
import functools
import os
import shutil
import time
from pathlib import Path

import numpy as np
import pytest

from kmnist.data import files as kdata
from tests.browser.helpers import TIMINGS_DIR, recorded_timings

ROOT = Path(__file__).resolve().parent.parent


def pytest_configure(config):
    config.addinivalue_line("markers", "real_data: needs real KMNIST files in $KMNIST_DATA")
    config.addinivalue_line("markers", "browser: drives Chromium against `streamlit run app.py`")
    config.addinivalue_line("markers", "benchmark: a speed measurement, left out of the suite (it runs "
                                       "tests side by side); run alone: pytest -m benchmark -n 0")


# The browser tests' measured figures, from every test process, printed once at the end.
def pytest_sessionstart(session):
    if not hasattr(session.config, "workerinput"):  # the run's first process: last run's figures go
        shutil.rmtree(TIMINGS_DIR, ignore_errors=True)


def pytest_terminal_summary(terminalreporter):
    timings = recorded_timings()
    if not timings:
        return
    TIMINGS_DIR.parent.mkdir(parents=True, exist_ok=True)
    (TIMINGS_DIR.parent / "timings.txt").write_text("\n".join(timings) + "\n")
    terminalreporter.section("browser timings (measured, not asserted; other tests ran beside them)")
    for line in timings:
        terminalreporter.write_line(line)
    terminalreporter.write_line(f"(also in {TIMINGS_DIR.parent / 'timings.txt'})")


@pytest.fixture(scope="session", autouse=True)
def models_never_written_into_the_project(tmp_path_factory):
    """Tests that forget to choose a models folder get an empty temporary one, never models/."""
    previous = os.environ.get("KMNIST_MODELS")
    os.environ["KMNIST_MODELS"] = str(tmp_path_factory.mktemp("default-models"))
    yield
    if previous is None:
        os.environ.pop("KMNIST_MODELS", None)
    else:
        os.environ["KMNIST_MODELS"] = previous


@pytest.fixture(scope="session", autouse=True)
def components_scanned_once():
    """Each new AppTest scans the metadata of every installed distribution for Streamlit components: 0.1 s
    on a quiet machine, about half of what opening the Training page in an AppTest costs under the suite's
    load. What is installed does not change during a run, so each test process scans once."""
    from streamlit.components.v2 import manifest_scanner

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(manifest_scanner, "scan_component_manifests",
                      functools.cache(manifest_scanner.scan_component_manifests))
        yield


@pytest.fixture(autouse=True)
def main_module_restored():
    """AppTest installs the page it ran as sys.modules["__main__"] and leaves it there; a training job
    spawned later would then re-run that page in its child. The server's __main__ is app.py, guarded."""
    import sys

    main = sys.modules["__main__"]
    yield
    sys.modules["__main__"] = main


@pytest.fixture(autouse=True)
def no_training_job_left_running():
    """A test that starts a background training job never leaves it running, or waiting, for the next."""
    yield
    from kmnist.jobs import ledger as jobs
    from kmnist.jobs import snapshots

    for waiting in jobs.waiting():
        waiting.stop()
    job = jobs.current()
    if job is not None and job.state in snapshots.OPEN:
        job.stop()
        assert job.wait(120), "a training job did not stop"


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The real-data folder. Missing data fails the test with the fix: a skipped test proves nothing."""
    directory = os.environ.get(kdata.DATA_ENV)
    if not directory or kdata.missing_files(directory):
        pytest.fail(f"real KMNIST data needed: set {kdata.DATA_ENV} to a folder with the four files "
                    "(e.g. ../shared/kmnist-offline), as the README's test command does")
    return Path(directory)


@pytest.fixture(scope="session")
def official_labels_dir() -> Path:
    """../shared/kmnist: official label files with their official md5s, to test checksum code."""
    folder = ROOT.parent / "shared" / "kmnist"
    if not (folder / "kmnist-train-labels.npz").is_file():
        pytest.fail(f"{folder} (official KMNIST label files) must sit beside the project")
    return folder


@pytest.fixture(scope="session")
def shared_copies() -> dict[str, kdata.KMNISTData]:
    """The two offline copies in ../shared: kmnist-offline (9,000 official test images, re-split) and
    kmnist-subset (6,284 official training images and the same 9,000 official test images)."""
    copies = {}
    for name in ("kmnist-offline", "kmnist-subset"):
        folder = ROOT.parent / "shared" / name
        if kdata.missing_files(folder):
            pytest.fail(f"{folder} must sit beside the project (see the README's data section)")
        copies[name] = kdata.load(folder)
    return copies


@pytest.fixture(scope="session")
def kmnist_data(data_dir):
    return kdata.load(data_dir)


@pytest.fixture(scope="session")
def trained_models(tmp_path_factory, kmnist_data) -> Path:
    """A models folder with a small max model and its avg twin (2 epochs on 1,500 images each).

    Named like the shipped models so pages find their defaults; read-only, shared by the whole run: the
    first test process to need it trains it, the others wait for it (a lock in the run's temporary folder).
    """
    from kmnist.network.architectures import POOLINGS
    from kmnist.network.config import TrainConfig
    from kmnist.registry.pairs import DEFAULT_PAIR, pair_name
    from kmnist.registry.store import model_path
    from kmnist.training.run import train

    run_folder = tmp_path_factory.getbasetemp()
    if "PYTEST_XDIST_WORKER" in os.environ:  # each worker's folder sits in the run's
        run_folder = run_folder.parent
    folder, done = run_folder / "trained-models", run_folder / "trained-models.done"
    with open(run_folder / "trained-models.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.exists():
            shutil.rmtree(folder, ignore_errors=True)  # a process that failed half-way left it
            folder.mkdir()
            for pooling in POOLINGS:
                config = TrainConfig(pooling=pooling, epochs=2, limit=1500, batch_size=64, seed=1)
                train(config, kmnist_data, model_path(pair_name(DEFAULT_PAIR, pooling), folder))
            done.touch()
    return folder


@pytest.fixture
def models_copy(trained_models, tmp_path, monkeypatch) -> Path:
    """A private, writable copy of `trained_models`, also set as KMNIST_MODELS for the app."""
    folder = tmp_path / "models"
    shutil.copytree(trained_models, folder)
    monkeypatch.setenv("KMNIST_MODELS", str(folder))
    return folder


@pytest.fixture
def synthetic():
    """40 images, 4 per class; class c is a square of brightness 20 * (c + 1) at row/column c."""
    labels = np.repeat(np.arange(10, dtype=np.uint8), 4)
    images = np.zeros((40, 28, 28), dtype=np.uint8)
    for n, c in enumerate(labels):
        images[n, c:c + 5, c:c + 5] = 20 * (c + 1)
    return images, labels


def sample_card(pooling_mode, seed=0, epochs=2, accuracy=0.9):
    """A model card as training writes it (a subset), for tests of card tables and twin pairing."""
    return {"config": {"pooling": pooling_mode, "seed": seed, "epochs": epochs}, "parameters": 1000,
            "training_seconds": 12.5, "best_epoch": 2, "status": "complete",
            "test": {"accuracy": accuracy, "macro_auc": 0.99, "loss": 0.3},
            "history": [{"kind": "epoch", "epoch": 1, "loss": 1.0},
                        {"kind": "epoch", "epoch": 2, "loss": 0.5}]}


def wait_until(condition, timeout: float = 60.0) -> bool:
    """True as soon as `condition()` is, False if `timeout` seconds pass first (polled, not a blind sleep)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


@pytest.fixture
def state_warnings(monkeypatch):
    """Whether Streamlit has logged "created with a default value but also had its value set via the
    Session State API" since the test began (a kept value given back beside a default of the widget's)."""
    from streamlit.elements.lib import policies

    monkeypatch.setattr(policies, "_shown_default_value_warning", False)  # logged once per process
    return lambda: policies._shown_default_value_warning


def open_tab(at, key: str, label: str):
    """AppTest: open the section (tab) `label` of a page's tabs keyed `key`, as a click on it does."""
    at.session_state[key] = label
    return at.run()
