"""AppTest of the Training page: the form, validation errors, a real background run, Stop, a busy server."""

import json
import math
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from kmnist.data.classes import CLASSES
from kmnist.evaluation import confusion, metrics
from kmnist.jobs import ledger as jobs
from kmnist.jobs import snapshots, supervisor, wording
from kmnist.network import recipes
from kmnist.network.config import BOUNDS, TrainConfig
from kmnist.registry.pairs import pair_name
from tests.fault_trainers import HELD_IN_EPOCH_1, HELD_IN_EPOCH_2

PAGE = str(Path(__file__).resolve().parent.parent / "pages" / "training.py")



@pytest.fixture
def page(models_copy, kmnist_data):
    at = AppTest.from_file(PAGE, default_timeout=120)
    return at.run()


def fill(at, **values):
    for key, value in values.items():
        at.number_input(key=key).set_value(value)
    return at


def run_when_done(at, job, timeout=150):
    """Wait for `job` to end, then run the page once more: what it shows of the ended job."""
    assert job.wait(timeout), "training did not end in time"
    return at.run()


def charts(at) -> dict[str, dict]:
    """The page's Plotly figures (as JSON) by their keys."""
    return {chart.key: json.loads(chart.proto.spec) for chart in at.get("plotly_chart")}


def wait_until_held(job, at: tuple[int, int], timeout=120) -> None:
    """Wait until the job's child is held at batch `at` (tests.fault_trainers.held_at): there it waits for
    Stop, so the run cannot move on or end while the test looks."""
    deadline = time.monotonic() + timeout
    while not any(r["kind"] == "batch" and (r["epoch"], r["batch"]) == at for r in job.snapshot().records):
        assert time.monotonic() < deadline, f"the run never reached batch {at}"
        time.sleep(0.1)


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
    start = recipes.quick_run_settings(recipes.DEFAULT_RECIPE, len(kmnist_data.y_train))  # the form starts so
    for key in ("epochs", "batch_size", "learning_rate", "patience", "seed", "limit"):
        assert page.number_input(key=key).value == start[key], key
    name = page.text_input(key="model_name")
    assert name.value == "" and name.placeholder == pair_name("my-model", "<pooling>")
    assert page.button(key="start").label == "Start training"


def test_the_empty_state_names_the_quick_run_the_form_starts_with(models_copy, kmnist_data, monkeypatch):
    monkeypatch.setattr(jobs, "_ledger", jobs.Ledger())  # no run on this server yet
    at = AppTest.from_file(PAGE, default_timeout=120).run()
    empty = next(i.value for i in at.info if i.value.startswith("No training has run on this server yet"))
    words = recipes.quick_run_words(len(kmnist_data.y_train))
    assert f"({words})" in empty
    epochs, limit = at.number_input(key="epochs").value, at.number_input(key="limit").value
    assert words.startswith(f"{epochs} epochs on {limit:,} images")  # what the form holds, e.g. 8 on 7,000


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
    fill(page, epochs=1, limit=400, batch_size=64, seed=7).button(key="start").click().run()
    job = jobs.current()
    assert not page.error and job.runs[0].name == "quick"
    assert (job.runs[0].config.pooling, job.runs[0].config.seed) == ("avg", 7)
    run_when_done(page, job)
    assert not page.exception
    assert job.state == snapshots.FINISHED
    report = job.snapshot().reports[0]
    card, records = report.result.card, job.snapshot().records
    success = " ".join(s.value for s in page.success)
    assert "quick" in success and str(models_copy / "quick.keras") in success
    assert "best epoch 1 of 1" in success
    assert (models_copy / "quick.keras").is_file() and (models_copy / "quick.card.json").is_file()
    shown = {m.label: m.value for m in page.metric}
    assert shown["Test accuracy"] == f"{card.test.accuracy:.1%}"
    assert shown["Macro AUC"] == f"{card.test.macro_auc:.4f}"
    assert card.config.seed == 7
    settings = next(c.value for c in page.caption if c.value.startswith("`quick`: "))
    assert settings.startswith("`quick`: average pooling on 400 training images, studio network, ")
    assert settings.endswith(", seed 7.")
    for file in ("quick.keras", "quick.onnx", "quick.card.json"):  # the finished run's files, to download
        assert page.download_button(key=f"training-quick-download-{file}").label == file
    figures = charts(page)
    assert set(figures) == {"training-curves", "training-quick-classes", "training-quick-confusion",
                            "training-quick-wrong"}

    # the curves hold this run's records: every batch's loss, the epoch's validation loss
    curves = {(t["name"], t.get("xaxis", "x")): t for t in figures["training-curves"]["data"]}
    batch_losses = [r["batch_loss"] for r in records if r["kind"] == "batch"]
    assert curves["train (per batch)", "x"]["y"] == pytest.approx(batch_losses)
    assert len(batch_losses) == job.snapshot().progress.steps  # one epoch
    epoch = next(r for r in records if r["kind"] == "epoch")
    assert curves["validation (per epoch)", "x"]["y"] == pytest.approx([epoch["val_loss"]])
    assert curves["validation (per epoch)", "x3"]["y"] == pytest.approx([epoch["val_accuracy"]])

    # per-class accuracy, the confusion matrix and the mistakes are those of the saved model's test run
    assert figures["training-quick-classes"]["data"][0]["y"] == pytest.approx(card.test.per_class_accuracy)
    counts = confusion.matrix(report.labels, report.predicted)
    assert [list(row) for row in card.test.confusion] == counts  # the child's predictions: the card's model
    markers = figures["training-quick-confusion"]["data"][1]
    assert markers["customdata"] == [counts[cell.true][cell.predicted] for cell in confusion.CELLS]
    wrong = metrics.misclassified(report.labels, report.predicted, limit=40)
    captions = [a["text"] for a in figures["training-quick-wrong"]["layout"]["annotations"]]
    kana = [(CLASSES[report.labels[i]].char, CLASSES[report.predicted[i]].char) for i in wrong]
    assert captions == [f"{true}→{predicted}" for true, predicted in kana]
    total = int((report.labels != report.predicted).sum())
    assert any(m.value.startswith(f"**Misclassified test images** ({len(wrong)} of {total} shown")
               for m in page.markdown)


@pytest.mark.parametrize("trainer, held_at, kept", [("held_in_epoch_1", HELD_IN_EPOCH_1, False),
                                                     ("held_in_epoch_2", HELD_IN_EPOCH_2, True)])
def test_stop_ends_the_run_and_says_what_was_kept(page, models_copy, monkeypatch, trainer, held_at, kept):
    monkeypatch.setattr(supervisor, "TRAINER", f"tests.fault_trainers:{trainer}")  # waits for Stop there
    page.text_input(key="model_name").set_value("halted")
    fill(page, epochs=5, limit=400, batch_size=8).button(key="start").click().run()
    job = jobs.current()
    wait_until_held(job, held_at)
    page.run()
    assert f"epoch {held_at[0]}/5 · batch {held_at[1]}/40" in page.get("progress")[0].proto.text
    page.button(key="training-stop").click().run()
    assert job.state in (snapshots.STOPPING, snapshots.STOPPED)
    assert "Stopping at the next batch" in " ".join(i.value for i in page.info)
    run_when_done(page, job)
    assert not page.exception and job.state == snapshots.STOPPED
    shown = " ".join(w.value for w in page.warning) + " ".join(s.value for s in page.success)
    if kept:  # epoch 1 ended: its checkpoint is the model
        assert "stopped early by Stop" in shown and "best epoch 1 of 1" in shown
        assert (models_copy / "halted.keras").is_file()
    else:
        assert "halted**: Stopped during epoch 1" in shown and "no model was saved" in shown
        assert not (models_copy / "halted.keras").exists()


def test_live_view_shows_the_strip_the_filters_why_validation_can_win_and_an_eta(page, monkeypatch):
    monkeypatch.setattr(supervisor, "TRAINER", "tests.fault_trainers:held_in_epoch_2")  # waits for Stop there
    page.text_input(key="model_name").set_value("watched")
    page.slider(key="label_smoothing").set_value(0.0)
    fill(page, epochs=5, limit=400, batch_size=8).button(key="start").click().run()
    job = jobs.current()
    wait_until_held(job, HELD_IN_EPOCH_2)  # epoch 1 has ended: its glimpse is in
    eta = job.progress().eta
    assert eta is not None and eta > 0  # measured from the batches so far
    page.run()
    later = job.progress().eta  # the estimate moves with the clock while the run is held: the page's lies
    assert not page.exception   # between the two
    shown = {f"about {wording.format_seconds(s)} left"
             for s in range(math.floor(min(eta, later)), math.ceil(max(eta, later)) + 1)}
    assert any(page.get("progress")[0].proto.text.endswith(text) for text in shown), shown
    titles = [m.value for m in page.markdown]
    assert "**Validation strip after epoch 1**" in titles
    assert "**First conv layer: 16 filters of 3×3, after epoch 1**" in titles
    assert len(page.get("image")) == 2  # the strip and the filters, each one picture
    captions = [c.value for c in page.caption]
    note = next(c for c in captions if c.startswith("Why validation can beat training"))
    assert "dropout and augmentation act only in training" in note and "smoothing" not in note
    assert any("one per class" in c for c in captions) and any("first layer's filters" in c for c in captions)
    job.stop()
    assert job.wait(120)


def test_a_second_session_queues_sees_its_place_and_cannot_stop_the_first(page, models_copy, kmnist_data,
                                                                          monkeypatch):
    monkeypatch.setattr(supervisor, "TRAINER", "tests.light_trainers:held_in_epoch_1")  # Alice's run goes on
    job = jobs.start([snapshots.Run("alices", TrainConfig(epochs=3, limit=400, batch_size=8))], "Alice",
                     kmnist_data, owner_id="alice-session")
    page.text_input(key="model_name").set_value("mine")
    fill(page, epochs=1, limit=300, seed=9).button(key="start").click().run()
    assert not page.exception and not page.error
    assert "Queued**, number 1 in line" in " ".join(i.value for i in page.info)
    captions = [c.value for c in page.caption]  # each run's settings, seed included: the queued one too
    assert any(c.startswith("`mine`: max pooling on 300 training images") and c.endswith(", seed 9.")
               for c in captions)
    assert any(c.startswith("`alices`: max pooling on 400 training images") and c.endswith(", seed 42.")
               for c in captions)
    assert any("by **Alice** · started at" in m.value for m in page.markdown)
    stop = page.button(key="training-stop")
    assert stop.disabled and "Only Alice" in stop.help  # read-only for everyone but Alice
    line = next(m.value for m in page.markdown if m.value.startswith("1. `mine`"))
    assert "by **Student " in line and "(you)" in line  # no name given: this session's "Student N"
    assert "is number **1** in line" in " ".join(i.value for i in page.info)
    mine = jobs.waiting()[0]
    assert page.button(key=f"training-cancel-{mine.snapshot().number}").disabled is False
    page.button(key=f"training-cancel-{mine.snapshot().number}").click().run()
    assert not page.exception and mine.state == snapshots.CANCELLED and jobs.waiting() == ()
    assert job.state in snapshots.ACTIVE  # Alice's run goes on
    job.stop()
    assert job.wait(120)
