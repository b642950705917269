"""AppTest of the Training page: the form, validation errors, a real background run, Stop, a busy server."""

import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from kmnist.jobs import ledger as jobs
from kmnist.jobs import snapshots
from kmnist.network.config import BOUNDS, TrainConfig

PAGE = str(Path(__file__).resolve().parent.parent / "pages" / "training.py")



@pytest.fixture
def page(models_copy, kmnist_data):
    at = AppTest.from_file(PAGE, default_timeout=120)
    return at.run()


def fill(at, **values):
    for key, value in values.items():
        at.number_input(key=key).set_value(value)
    return at


def poll_until_done(at, timeout=150):
    deadline = time.monotonic() + timeout
    while jobs.current().state in snapshots.ACTIVE and time.monotonic() < deadline:
        time.sleep(1)
        at.run()
    at.run()
    assert jobs.current().state not in snapshots.ACTIVE, "training did not end in time"
    return at


def test_page_renders_its_explanation_and_form(page, kmnist_data):
    assert not page.exception
    text = " ".join(m.value for m in page.markdown)
    assert "epoch" in text and "AUC" in text and "early" in text and "callbacks" in text
    for key in ("epochs", "batch_size", "learning_rate", "patience", "seed"):  # the ranges TrainConfig allows
        widget = page.number_input(key=key)
        assert (widget.min, widget.max) == (BOUNDS[key].low, BOUNDS[key].high), key
    assert page.number_input(key="limit").min == BOUNDS["limit"].low
    assert page.number_input(key="limit").max == len(kmnist_data.y_train)
    assert page.radio(key="pooling").options == ["max pooling", "average pooling"]
    assert page.slider(key="dropout").value == 0.25 and page.toggle(key="augment").value is True
    assert page.text_input(key="model_name") is not None
    assert page.button(key="start") is not None


def test_invalid_hyperparameters_show_each_problem_and_start_nothing(page, models_copy):
    before = jobs.current()
    fill(page, learning_rate=0.0, limit=100, batch_size=500).button(key="start").click().run()
    errors = " ".join(e.value for e in page.error)
    assert "Nothing was started" in errors
    assert "learning rate must be above 0" in errors
    assert jobs.current() is before
    assert sorted(p.name for p in models_copy.glob("*.keras")) == ["studio-avg.keras", "studio-max.keras"]


def test_existing_name_is_refused(page, models_copy):
    page.text_input(key="model_name").set_value("studio-max")
    fill(page, epochs=1, limit=300).button(key="start").click().run()
    assert "'studio-max' already exists" in " ".join(e.value for e in page.error)


def test_a_quick_run_trains_in_the_background_and_shows_results(page, models_copy):
    page.text_input(key="model_name").set_value("quick")
    page.radio(key="pooling").set_value("avg")
    fill(page, epochs=1, limit=400, batch_size=64).button(key="start").click().run()
    assert not page.error and jobs.current().runs[0].name == "quick"
    assert jobs.current().runs[0].config.pooling == "avg"
    poll_until_done(page)
    assert not page.exception
    assert jobs.current().state == snapshots.FINISHED
    success = " ".join(s.value for s in page.success)
    assert "quick" in success and str(models_copy / "quick.keras") in success
    assert (models_copy / "quick.keras").is_file() and (models_copy / "quick.card.json").is_file()
    assert {m.label for m in page.metric} >= {"Test accuracy", "Macro AUC"}
    assert len(page.get("plotly_chart")) >= 4  # curves, confusion, per-class, mistakes gallery
    assert any("Misclassified test images" in m.value for m in page.markdown)


def test_stop_ends_the_run_and_says_what_was_kept(page, models_copy):
    page.text_input(key="model_name").set_value("halted")
    fill(page, epochs=5, limit=400, batch_size=8).button(key="start").click().run()
    job = jobs.current()
    deadline = time.monotonic() + 60
    while not any(r["kind"] == "batch" for r in job.snapshot().records) and time.monotonic() < deadline:
        time.sleep(0.2)
    page.run()
    page.button(key="training-stop").click().run()
    assert job.state in (snapshots.STOPPING, snapshots.STOPPED)
    poll_until_done(page)
    assert job.state == snapshots.STOPPED
    shown = " ".join(w.value for w in page.warning) + " ".join(s.value for s in page.success)
    result = job.snapshot().reports[0].result
    if result.status == "stopped-empty":
        assert "no model was saved" in shown and not (models_copy / "halted.keras").exists()
    else:
        assert "stopped early by Stop" in shown and (models_copy / "halted.keras").is_file()


def test_live_view_shows_the_strip_the_filters_why_validation_can_win_and_an_eta(page):
    page.text_input(key="model_name").set_value("watched")
    page.slider(key="label_smoothing").set_value(0.0)
    fill(page, epochs=5, limit=400, batch_size=8).button(key="start").click().run()
    job = jobs.current()
    deadline = time.monotonic() + 90
    while not any(r["kind"] == "glimpse" for r in job.snapshot().records) and time.monotonic() < deadline:
        time.sleep(0.2)
    eta = job.progress().eta
    assert eta is not None and 0 <= eta < 600  # finite and sane, measured from the batches so far
    page.run()
    assert not page.exception
    titles = [m.value for m in page.markdown]
    assert any(t.startswith("**Validation strip after epoch") for t in titles)
    assert any(t.startswith("**First conv layer: 16 filters of 3×3, after epoch") for t in titles)
    assert len(page.get("image")) == 2  # the strip and the filters, each one picture
    captions = [c.value for c in page.caption]
    note = next(c for c in captions if c.startswith("Why validation can beat training"))
    assert "dropout and augmentation act only in training" in note and "smoothing" not in note
    assert any("one per class" in c for c in captions) and any("first layer's filters" in c for c in captions)
    job.stop()
    assert job.wait(120)


def test_a_second_session_queues_sees_its_place_and_cannot_stop_the_first(page, models_copy, kmnist_data):
    job = jobs.start([snapshots.Run("alices", TrainConfig(epochs=3, limit=400, batch_size=8))], "Alice",
                     kmnist_data, owner_id="alice-session")
    page.text_input(key="model_name").set_value("mine")
    fill(page, epochs=1, limit=300).button(key="start").click().run()
    assert not page.exception and not page.error
    assert "Queued**, number 1 in line" in " ".join(i.value for i in page.info)
    assert any("started by **Alice**" in m.value for m in page.markdown)
    stop = page.button(key="training-stop")
    assert stop.disabled and "Only Alice" in stop.help  # read-only for everyone but Alice
    line = next(m.value for m in page.markdown if m.value.startswith("1. `mine`"))
    assert "by **session" in line
    mine = jobs.waiting()[0]
    assert page.button(key=f"training-cancel-{mine.snapshot().number}").disabled is False
    page.button(key=f"training-cancel-{mine.snapshot().number}").click().run()
    assert not page.exception and mine.state == snapshots.CANCELLED and jobs.waiting() == ()
    assert job.state in snapshots.ACTIVE  # Alice's run goes on
    job.stop()
    assert job.wait(120)
