"""Load: five people use the sketch pad at once while a training job runs on the same server.

Each user's page classifies in the browser; the latency is the pad's own measure, mouse up -> the
prediction for the finished drawing written into the page."""

import asyncio
import re
import threading
import time
import uuid

import numpy as np
import pytest

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.browser.drawing import BLANK_HINT, PAD_CANVAS, PAD_FRAME, PAD_IDLE_JS, PREDICTION, draw_async
from tests.browser.helpers import APP_IDLE, assert_no_errors, healthy, open_page, record_timing
from tests.browser.test_training import start_training

USERS, ROUNDS = 5, 3
ANSWER_MS = 180_000  # a prediction not shown within this is a failure


async def sketch_user(browser, url: str, plan, results: list, user: int) -> None:
    """One person: open the sketch pad, then draw, wait for the right prediction, clear, ROUNDS times."""
    context = await browser.new_context(viewport={"width": 1400, "height": 1000})
    page = await context.new_page()
    page.set_default_timeout(ANSWER_MS)
    try:
        await page.goto(f"{url}/sketch")
        await page.wait_for_selector(APP_IDLE)
        pad = page.frame_locator(PAD_FRAME)
        await pad.locator("body").wait_for()
        while not await pad.locator("body").evaluate("() => Boolean(window.kmnistSketch?.ready)"):
            await asyncio.sleep(0.05)
        for example in plan:
            await pad.get_by_text(BLANK_HINT).wait_for()
            await draw_async(page, example.strokes, pad.locator(PAD_CANVAS))
            await pad.locator("body").evaluate(PAD_IDLE_JS)
            shown = await pad.locator(PREDICTION).inner_text()
            assert example.expected.match(shown.strip()), f"user {user} drew {example.char}, saw {shown}"
            await pad.get_by_role("button", name="Clear the canvas").click()
        await pad.get_by_text(BLANK_HINT).wait_for()
        latencies = await pad.locator("body").evaluate("() => window.kmnistSketch.releaseLatencies")
        results.extend((user, latency) for latency in latencies)
        assert await page.locator("[data-testid='stException']").count() == 0
    finally:
        await context.close()


async def sketch_crowd(url: str, plans, results: list) -> None:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            await asyncio.gather(*(sketch_user(browser, url, plan, results, user)
                                   for user, plan in enumerate(plans)))
        finally:
            await browser.close()


def run_crowd(url: str, plans) -> tuple[list, list]:
    """The crowd in a thread of its own (Playwright's sync API already owns this thread)."""
    results, errors = [], []

    def work():
        try:
            asyncio.run(sketch_crowd(url, plans, results))
        except BaseException as error:  # reported by the test
            errors.append(error)

    thread = threading.Thread(target=work, name="sketch-crowd")
    thread.start()
    thread.join(timeout=600)
    assert not thread.is_alive(), "the sketch-pad users did not finish within 10 minutes"
    return results, errors


@pytest.mark.browser
@pytest.mark.benchmark  # a speed measurement: run alone (pytest -m benchmark -n 0)
def test_five_sketch_pad_users_and_a_training_job_at_once(page, app_server, examples):
    name = f"load-{uuid.uuid4().hex[:6]}"
    open_page(page, app_server, "training")
    start_training(page, name, epochs=2, batch_size=32, limit=400, augment=False)
    page.get_by_text("autorenew training").wait_for()

    drawings = [example for chosen in examples.values() for example in chosen]
    plans = [[drawings[(user + round_) % len(drawings)] for round_ in range(ROUNDS)] for user in range(USERS)]
    started = time.monotonic()
    results, errors = run_crowd(app_server["url"], plans)
    crowd_seconds = time.monotonic() - started
    assert not errors, errors
    strokes = sum(len(example.strokes) for plan in plans for example in plan)
    assert len(results) >= strokes, f"{len(results)} answers to {strokes} strokes"

    page.get_by_text(re.compile(rf"^Training job {name}.*check_circle finished")).wait_for(timeout=300_000)
    page.get_by_text(re.compile(rf"^{name} saved to ")).wait_for()
    assert (app_server["models"] / f"{name}.keras").is_file()
    assert_no_errors(page)
    assert healthy(app_server["url"])

    latencies = np.array([latency for _, latency in results])
    record_timing(f"in-page prediction latency with {USERS} sketch-pad users + 1 training job "
                  f"({len(latencies)} strokes, mouse up -> prediction shown): "
                  f"p50 {np.percentile(latencies, 50):.1f} ms, p95 {np.percentile(latencies, 95):.1f} ms, "
                  f"max {latencies.max():.1f} ms (all users done in {crowd_seconds:.0f} s)")
