"""Fixtures for the browser tests: a `streamlit run app.py` server, Chromium, and failure evidence.

Follows Streamlit's own e2e pattern: start the server headless on a free localhost port, wait for
/_stcore/health, then wait until the app reports that its script finished running. On a failure
the page's screenshot and the server log are kept under artifacts/browser/ and their paths printed.
Measured figures (start-up, prediction latency) are recorded with helpers.record_timing; tests/conftest.py
prints them at the end of the run and writes them to artifacts/browser/timings.txt.
"""

import contextlib
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.browser.helpers import TIMEOUT_MS, open_page, record_timing, worker_name
from tests.conftest import ROOT

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = ROOT / "artifacts" / "browser"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-dev-shm-usage", "--no-first-run"]
SHIPPED_MODELS = ROOT / "models"
VIEWPORT = {"width": 1400, "height": 1000}

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_health(url: str, process: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited with status {process.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)  # polling the health endpoint, not waiting blindly
    raise TimeoutError(f"{url}/_stcore/health did not answer within {timeout:.0f} s")


@contextlib.contextmanager
def streamlit_server(data_dir: Path, models: Path, log_name: str, environment: dict | None = None):
    """`streamlit run app.py` on a free port (`environment` added to its own); yields its URL, start time,
    log path and models folder."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log_path = ARTIFACTS / f"{worker_name()}-{log_name}"  # each test process has servers of its own
    env = os.environ | {"KMNIST_DATA": str(data_dir), "KMNIST_MODELS": str(models),
                        "PYTHONUNBUFFERED": "1"} | (environment or {})
    # As the README starts it (`streamlit run app.py`, settings from .streamlit/config.toml); only where
    # it listens and that no browser should open are given here.
    command = [str(Path(sys.executable).with_name("streamlit")), "run", "app.py", "--server.headless", "true",
               "--server.port", str(port), "--server.address", "127.0.0.1"]
    with open(log_path, "w") as log:
        started = time.monotonic()
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        try:
            wait_for_health(url, process)
            yield {"url": url, "started": started, "log": log_path, "models": models, "process": process}
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


@pytest.fixture(scope="session")
def playwright():
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} not found: install Debian's chromium (apt-get install chromium), "
                    "or leave the browser tests out with -m 'not browser'")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def chromium(playwright):
    """A browser for tests that need contexts of their own (touch, a cold cache, two profiles)."""
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture(scope="session")
def profile(playwright, tmp_path_factory):
    """One browser profile for this test process, with a disk cache as a student's browser has: each page
    opened in it is a Streamlit session of its own, and Streamlit's scripts are compiled from V8's code
    cache after the first load (measured: 8 Home loads took 23 CPU-s here against 34 in fresh contexts)."""
    context = playwright.chromium.launch_persistent_context(
        tmp_path_factory.mktemp("chromium-profile"), executable_path=CHROMIUM, args=CHROMIUM_ARGS,
        viewport=VIEWPORT)
    yield context
    context.close()


def copy_models(folder: Path, request) -> Path:
    """The shipped models copied into `folder`; the small test pair (trained on demand) if none shipped."""
    shipped = any(SHIPPED_MODELS.glob("*.keras"))
    source = SHIPPED_MODELS if shipped else request.getfixturevalue("trained_models")
    for path in source.iterdir():
        if path.suffix in (".keras", ".json", ".onnx"):
            shutil.copy2(path, folder / path.name)
    return folder


@pytest.fixture(scope="session")
def browser_models(tmp_path_factory, request) -> Path:
    """The shipped models (when present) or the small test pair, in a writable temporary folder."""
    return copy_models(tmp_path_factory.mktemp("browser-models"), request)


@pytest.fixture(scope="session")
def app_server(data_dir, browser_models, profile):
    """The suite's shared server; yields its URL, start time, log path and models folder.

    Opens the home page once at start, which times the start-up a first visitor waits through.
    """
    with streamlit_server(data_dir, browser_models, "server.log") as server:
        page = profile.new_page()
        try:
            page.set_default_timeout(TIMEOUT_MS)
            open_page(page, server)
            page.get_by_role("heading", name="KMNIST Studio").wait_for()
            record_timing(f"server start -> first page rendered (Home): "
                          f"{time.monotonic() - server['started']:.1f} s")
        finally:
            page.close()
        yield server


@pytest.fixture
def fresh_server(data_dir, tmp_path, request):
    """A server of its own that no browser has visited yet (for first-request behaviour)."""
    with streamlit_server(data_dir, copy_models(tmp_path, request), "fresh-server.log") as server:
        yield server


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)


def keep_evidence(request, page, server) -> None:
    """After a failed test: a full-page screenshot and the server log's path, printed."""
    failed = getattr(request.node, "report_call", None)
    if failed is None or not failed.failed:
        return
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    stem = re.sub(r"[^A-Za-z0-9_.-]", "_", request.node.name)
    shot, log = ARTIFACTS / f"{stem}.png", ARTIFACTS / f"{stem}.server.log"
    shutil.copy2(server["log"], log)  # the server's log so far (a later run rewrites server.log)
    try:
        page.screenshot(path=str(shot), full_page=True)
        print(f"\nscreenshot of the failure: {shot}\nserver log: {log}")
    except Exception as error:  # the page may be gone; the log still helps
        print(f"\nno screenshot ({error}); server log: {log}")


@pytest.fixture
def new_page(profile, app_server, request):
    """A factory of pages, each a Streamlit session of its own (the test process's browser profile)."""
    pages = []

    def make(server=None):
        page = profile.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        pages.append((page, server or app_server))
        return page

    yield make
    for page, server in pages:
        keep_evidence(request, page, server)
        page.close()


@pytest.fixture
def page(new_page):
    return new_page()


DRAWN_CLASSES = (1, 3, 5)  # き, つ, は: characters the scan-line tracing draws in few strokes


@pytest.fixture(scope="session")
def examples(kmnist_data, browser_models):
    """Test images of DRAWN_CLASSES that the server's default model reads correctly when traced."""
    from kmnist.registry import store
    from tests.browser.drawing import choose_examples

    model = store.load_model(store.model_path(store.DEFAULT_MODEL, browser_models))
    shipped = any(SHIPPED_MODELS.glob("*.keras"))
    return choose_examples(model, kmnist_data, DRAWN_CLASSES, per_class=2,
                           threshold=0.95 if shipped else 0.7)
