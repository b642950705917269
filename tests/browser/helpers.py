"""Helpers for the browser tests: waiting on the app, error checks, chart contents, timings."""

import os
import re
import time
import urllib.request
from pathlib import Path

APP_IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"
TIMEOUT_MS = 90_000  # generous: the machine has two busy cores

# Measured figures, printed in the terminal summary (see conftest.py). The suite runs in several worker
# processes (pytest-xdist), so each process appends its figures to a file of its own in this folder.
TIMINGS_DIR = Path(__file__).resolve().parents[2] / "artifacts" / "browser" / "timings.d"


def worker_name() -> str:
    """This test process's name: "gw0", "gw1"... under pytest-xdist, "main" without it."""
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


def record_timing(line: str) -> None:
    TIMINGS_DIR.mkdir(parents=True, exist_ok=True)
    with open(TIMINGS_DIR / f"{worker_name()}.txt", "a") as figures:
        figures.write(line + "\n")
    print(f"[timing] {line}")


def recorded_timings() -> list[str]:
    """Every figure recorded in this run, by any worker."""
    files = sorted(TIMINGS_DIR.glob("*.txt")) if TIMINGS_DIR.is_dir() else []
    return [line for path in files for line in path.read_text().splitlines() if line]


def wait_for_app(page, timeout: float = TIMEOUT_MS) -> None:
    """Wait until Streamlit says the script finished running (Streamlit's e2e pattern)."""
    page.wait_for_selector(APP_IDLE, timeout=timeout)


KERAS_LOADING = re.compile("^Loading TensorFlow for ")  # kmnist.ui.keras_state.wait_for_keras' progress


def wait_for_keras_views(page, timeout: float = TIMEOUT_MS) -> None:
    """A page that needs Keras, opened before the server had imported it, shows the import's progress and
    fills in by itself: wait until it has (at once on any other page)."""
    loading, deadline = page.get_by_text(KERAS_LOADING), time.monotonic() + timeout / 1000
    while loading.count():
        assert time.monotonic() < deadline, "the page did not fill in after loading TensorFlow"
        page.wait_for_timeout(250)
    wait_for_app(page, timeout)


def open_page(page, server, path: str = "") -> None:
    """Go to /path and wait until the page is complete (its script finished, filled in if it needed Keras)."""
    page.goto(f"{server['url']}/{path}")
    wait_for_app(page)
    wait_for_keras_views(page)


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


def cpu_by_process() -> dict[int, tuple[str, float]]:
    """Every process's name and CPU seconds so far (user + system, from /proc), to see who used the cores."""
    import os

    ticks = os.sysconf("SC_CLK_TCK")
    seen = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                stat = handle.read()
        except OSError:
            continue  # ended meanwhile
        name, fields = stat[stat.index("(") + 1:stat.rindex(")")], stat[stat.rindex(")") + 2:].split()
        seen[int(entry)] = (name, (int(fields[11]) + int(fields[12])) / ticks)
    return seen


def cpu_used_since(before: dict, top: int = 4) -> str:
    """The processes that used the most CPU since `before` (a cpu_by_process() snapshot), grouped by name."""
    used: dict[str, float] = {}
    for pid, (name, seconds) in cpu_by_process().items():
        used[name] = used.get(name, 0.0) + seconds - before.get(pid, (name, 0.0))[1]
    ranked = sorted(used.items(), key=lambda item: -item[1])[:top]
    return ", ".join(f"{name} {seconds:.1f} s" for name, seconds in ranked)


# How far a document's content reaches sideways, against its window's width.
OVERFLOW_JS = "() => [document.scrollingElement.scrollWidth, window.innerWidth]"


def too_wide(page, path: str) -> dict[str, tuple[int, int]]:
    """The page's documents (its own and its component frames') wider than their windows."""
    wide = {}
    for frame in page.frames:
        width, window = frame.evaluate(OVERFLOW_JS)
        if width > window + 1:
            wide[f"/{path} {frame.name or frame.url[-40:]}"] = (width, window)
    return wide


# The name of the focused element, inside component frames too.
FOCUSED_JS = """() => { let doc = document, el = doc.activeElement;
    while (el && el.tagName === 'IFRAME') { doc = el.contentDocument; el = doc && doc.activeElement; }
    return el ? (el.getAttribute('aria-label') || el.innerText || el.value || '').trim() : ''; }"""
TAB_LIMIT = 10  # Start, Stop, Clear and Look inside are at most this many Tab presses from the top
SKIP_LINK = "Skip to main content"  # Streamlit's own first Tab stop, past the sidebar's navigation


def tab_presses_to(page, name: str, most: int = 40) -> tuple[int, list[str]]:
    """Tab presses from the top of the page until the element named `name` has the focus, and the names on
    the way. The first press reaches Streamlit's "Skip to main content" link on any page (focused here
    directly, so the count starts from the top wherever the focus was), which is followed with Enter, as a
    keyboard user would."""
    page.get_by_role("link", name=SKIP_LINK).focus()
    page.keyboard.press("Enter")
    path = [SKIP_LINK]
    for presses in range(2, most + 1):
        page.keyboard.press("Tab")
        path.append(focused := page.evaluate(FOCUSED_JS))
        if name in focused:
            return presses, path
    raise AssertionError(f"{name!r} not reached in {most} Tab presses: {path}")


def save_screenshot(page, name: str) -> None:
    """The whole page as artifacts/browser/pages/<name>.png (kept by CI; `name` may hold a folder, such as
    "phone/home"). Streamlit scrolls inside its main block, so the window is first made as tall as the page,
    then given back its height."""
    from pathlib import Path

    folder = Path(__file__).resolve().parents[2] / "artifacts" / "browser" / "pages"
    (folder / name).parent.mkdir(parents=True, exist_ok=True)
    size = page.viewport_size
    height = page.locator("[data-testid='stMain']").evaluate("el => el.scrollHeight")
    page.set_viewport_size({"width": size["width"], "height": max(size["height"], height)})
    wait_for_app(page)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)
    page.set_viewport_size(size)


def heading(page_info) -> str:
    """A page's title as the browser names it (kmnist.ui.navigation.PageInfo.header): a Material icon is
    read out as "<name> icon"."""
    return re.sub(r":material/(\w+):", r"\1 icon", page_info.header)


def open_tab(page, name: str) -> None:
    """Open a page's section (tab) `name` as a user does, and wait until it is drawn (only the open section
    of a page is drawn: kmnist.ui.sections): its panel has content, the run it asked for has finished and
    nothing on the page is stale (Streamlit dims what the last run drew while the next runs)."""
    page.get_by_role("tab", name=name, exact=True).click()
    page.get_by_role("tab", name=name, exact=True, selected=True).wait_for()
    page.locator("[role='tabpanel']:not([hidden]) [data-testid='stElementContainer']").first.wait_for()
    page.wait_for_function(SETTLED_JS)
    wait_for_app(page)


SETTLED_JS = f"""() => !document.querySelector("[data-stale='true']") &&
    document.querySelector("{APP_IDLE}") !== null"""
