"""Fixtures for the browser tests: a `streamlit run app.py` server, Chromium, and failure evidence.

Follows Streamlit's own e2e pattern: start the server headless on a free localhost port, wait for
/_stcore/health, then wait until the app reports that its script finished running. On a failure
the page's screenshot and the server log are kept under artifacts/browser/ and their paths printed.
"""

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import ROOT

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = ROOT / "artifacts" / "browser"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-dev-shm-usage", "--no-first-run"]
SHIPPED_MODELS = ROOT / "models"


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
            time.sleep(0.2)
    raise TimeoutError(f"{url}/_stcore/health did not answer within {timeout:.0f} s")


@pytest.fixture(scope="session")
def chromium():
    if not os.path.exists(CHROMIUM):
        message = f"{CHROMIUM} not found: install Debian's chromium (apt-get install chromium)"
        if os.environ.get("KMNIST_REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def browser_models(tmp_path_factory, trained_models) -> Path:
    """The shipped models (when present) plus the small test pair, in a writable temporary folder."""
    folder = tmp_path_factory.mktemp("browser-models")
    source = SHIPPED_MODELS if any(SHIPPED_MODELS.glob("*.keras")) else trained_models
    for path in source.iterdir():
        if path.suffix in (".keras", ".json"):
            shutil.copy2(path, folder / path.name)
    return folder


@pytest.fixture(scope="session")
def app_server(data_dir, browser_models):
    """`streamlit run app.py` on a free port; yields its URL, start time and log path."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log_path = ARTIFACTS / "server.log"
    env = os.environ | {"KMNIST_DATA": str(data_dir), "KMNIST_MODELS": str(browser_models),
                        "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
               "--server.port", str(port), "--server.address", "127.0.0.1",
               "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"]
    with open(log_path, "w") as log:
        started = time.monotonic()
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        try:
            wait_for_health(url, process)
            yield {"url": url, "started": started, "log": log_path, "models": browser_models}
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)


@pytest.fixture
def page(chromium, app_server, request):
    context = chromium.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(60_000)
    yield page
    failed = getattr(request.node, "report_call", None)
    if failed is not None and failed.failed:
        shot = ARTIFACTS / f"{request.node.name}.png"
        try:
            page.screenshot(path=str(shot), full_page=True)
            print(f"\nscreenshot of the failure: {shot}\nserver log: {app_server['log']}")
        except Exception as error:  # the page may be gone; the log still helps
            print(f"\nno screenshot ({error}); server log: {app_server['log']}")
    context.close()


def wait_for_app(page, timeout: float = 90_000) -> None:
    """Wait until Streamlit says the script finished running (Streamlit's e2e pattern)."""
    page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']",
                           timeout=timeout)


def open_page(page, app_server, path: str = "") -> None:
    page.goto(f"{app_server['url']}/{path}")
    wait_for_app(page)
