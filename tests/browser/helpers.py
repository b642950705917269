"""Helpers for the browser tests: waiting on the app, error checks, chart contents, timings."""

import urllib.request

APP_IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"
TIMEOUT_MS = 90_000  # generous: the machine has two busy cores

TIMINGS: list[str] = []  # measured figures, printed in the terminal summary (see conftest.py)


def record_timing(line: str) -> None:
    TIMINGS.append(line)
    print(f"[timing] {line}")


def wait_for_app(page, timeout: float = TIMEOUT_MS) -> None:
    """Wait until Streamlit says the script finished running (Streamlit's e2e pattern)."""
    page.wait_for_selector(APP_IDLE, timeout=timeout)


def open_page(page, server, path: str = "") -> None:
    page.goto(f"{server['url']}/{path}")
    wait_for_app(page)


def assert_no_errors(page) -> None:
    """No traceback element and no red error box anywhere on the page."""
    exceptions = page.locator("[data-testid='stException']")
    assert exceptions.count() == 0, exceptions.all_inner_texts()
    errors = page.locator("[data-testid='stAlertContentError']")
    assert errors.count() == 0, errors.all_inner_texts()


def plotly_points(locator) -> int:
    """How many data points (heatmap rows) the plotly chart under `locator` draws, all traces together.

    Reads plotly.js's own decoded traces (_fullData): the figure JSON holds numpy arrays base64-coded.
    """
    return locator.locator(".js-plotly-plot").first.evaluate(
        "el => (el._fullData || []).reduce("
        "    (n, t) => n + ((t.x && t.x.length) || (t.z && t.z.length) || 0), 0)")


def healthy(url: str) -> bool:
    """Whether the server still answers its health check."""
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=10) as response:
            return response.status == 200
    except OSError:
        return False
