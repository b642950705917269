"""A student's journey with a model of their own, across the pages: train it, open one of its mistakes from
its confusion matrix in the Layer visualizer, draw on the pad with it, look inside the drawing. Every page
must show the student's model, not the default one (each view tested alone with the default model is how
such bugs slipped through). axe-core audits the pages in the states the journey reaches.
"""

import re
import uuid

import pytest

from kmnist.data.classes import CLASSES
from kmnist.data.pixels import to_model_input
from kmnist.evaluation import confusion
from kmnist.registry import inference, store
from kmnist.ui import keys
from kmnist.ui.comparison_view import MISTAKES
from kmnist.ui.navigation import COMPARE, LAYERS, SKETCH
from tests.browser import accessibility
from tests.browser.drawing import draw, pad, pad_stats, wait_until_pad_idle, wait_until_pad_ready
from tests.browser.helpers import assert_no_errors, heading, open_tab, record_timing, wait_for_app
from tests.browser.test_compare import Reruns, click_cell
from tests.browser.test_training import start_training


def go_to(page, title: str, page_info) -> None:
    page.locator("[data-testid='stSidebarNav'] a", has_text=title).click()
    page.get_by_role("heading", name=heading(page_info), exact=True).wait_for()
    wait_for_app(page)


def choose(page, label: str, option: str) -> None:
    """Pick `option` (a model's name, which begins its label) in the selectbox `label`."""
    box = page.get_by_role("combobox", name=label, exact=True)
    box.click()
    box.fill(option)  # typing filters the list, as with many models in it
    page.get_by_role("option", name=re.compile(rf"^{re.escape(option)}\b")).wait_for()
    box.press("Enter")  # the one option left, taken by keyboard (a click on it timed out under load)
    wait_for_app(page)


def shown_model(page) -> str:
    """The model the Layer visualizer shows, as its model picker reads."""
    return page.locator(f".st-key-{keys.LAYERS_MODEL}").get_by_role("combobox").input_value()


def audited(page, where: str) -> None:
    found = accessibility.audit(page)
    record_timing(f"axe-core, student journey, {where}: ours {accessibility.counts(found['ours'])}")
    assert not accessibility.blocking(found["ours"]), "\n".join(accessibility.blocking(found["ours"]))


@pytest.mark.browser
def test_a_students_own_model_is_the_one_every_page_shows(page, app_server, kmnist_data):
    reruns = Reruns(page)
    name = f"student-{uuid.uuid4().hex[:6]}"
    page.goto(f"{app_server['url']}/training")
    start_training(page, name, epochs=2, batch_size=64, limit=1000, augment=False, patience=2)
    page.get_by_text(re.compile(rf"^{name} saved to ")).wait_for(timeout=180_000)
    wait_for_app(page)
    assert_no_errors(page)
    audited(page, "Training with the finished run")

    # Compare runs: the student's model, then its most common mistake opened in the Layer visualizer
    go_to(page, "Compare runs", COMPARE)
    open_tab(page, MISTAKES)
    choose(page, "Model", name)
    page.get_by_text(re.compile(rf"^{name}: [\d.]+% right on ")).wait_for()
    entry = next(e for e in store.list_models(app_server["models"]) if e.name == name)
    predicted = inference.load_classifier(entry.path).probabilities(
        to_model_input(kmnist_data.x_test)).argmax(axis=1)
    counts = confusion.matrix(kmnist_data.y_test, predicted)
    mistakes = [cell for cell in confusion.CELLS if cell.true != cell.predicted]
    mistake = max(mistakes, key=lambda cell: counts[cell.true][cell.predicted])
    click_cell(page, reruns, mistake)
    audited(page, "Compare runs with a clicked cell")
    position = int(confusion.members(kmnist_data.y_test, predicted, mistake)[0])
    page.get_by_role("button", name=re.compile("Open in the Layer visualizer")).click()
    page.get_by_role("heading", name=heading(LAYERS), exact=True).wait_for()
    wait_for_app(page)
    assert shown_model(page).startswith(name)
    page.get_by_text(f"test image #{position}, {mistake.words} by {name}").wait_for()
    # the prediction beside it is the mistake's: the page runs the student's model, not studio-max
    said = page.get_by_text(re.compile(r"^Prediction: ")).first.inner_text()
    assert said.startswith(f"Prediction: {CLASSES[mistake.predicted].name}"), said
    assert_no_errors(page)
    audited(page, "Layer visualizer on a sent mistake")

    # The Sketch pad with the same model: the page loads its twin, and Look inside keeps it
    go_to(page, "Sketch pad", SKETCH)
    choose(page, "Model", name)
    # the pad may still show the model it loaded first: wait until it has loaded the student's
    pad(page).get_by_test_id("kmnist-engine").filter(has_text=f"runs {name}").wait_for()
    wait_until_pad_ready(page)
    draw(page, [[(80.0, 60.0), (200.0, 60.0)], [(140.0, 40.0), (140.0, 230.0)]])
    wait_until_pad_idle(page)
    drawn = pad_stats(page, "s.lastProbabilities")
    assert drawn is not None
    audited(page, "Sketch pad with a drawing")
    pad(page).get_by_role("button", name="Look inside").click()
    page.get_by_role("heading", name=heading(LAYERS), exact=True).wait_for()
    wait_for_app(page)
    assert shown_model(page).startswith(name)
    assert page.get_by_role("radio", name="My drawing (Sketch pad)").is_checked()
    best = max(range(len(drawn)), key=drawn.__getitem__)  # the page's answer is the pad's answer
    assert page.get_by_text(re.compile(r"^Prediction: ")).first.inner_text().startswith(
        f"Prediction: {CLASSES[best].name}")
    assert_no_errors(page)
