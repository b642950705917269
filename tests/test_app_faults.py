"""AppTest of faults on the pages: broken models, training that crashes, a models folder that refuses
writes, a full disk. Each shows a message naming the problem and the fix, and nothing is lost."""

import time
from pathlib import Path

import keras
import pytest
from streamlit.testing.v1 import AppTest

from kmnist.jobs import ledger as jobs
from kmnist.jobs import snapshots, supervisor

PAGES = Path(__file__).resolve().parent.parent / "pages"


def open_page(name: str) -> AppTest:
    return AppTest.from_file(str(PAGES / f"{name}.py"), default_timeout=120).run()


def shown(at, kinds=("error", "warning", "info", "success")) -> str:
    return " ".join(element.value for kind in kinds for element in getattr(at, kind))



@pytest.mark.parametrize("page_name", ["sketch", "layers"])
def test_a_corrupt_default_model_is_reported_and_the_page_still_works(page_name, models_copy, kmnist_data):
    (models_copy / "studio-max.keras").write_bytes(b"PK\x03\x04 truncated by a bad copy")
    at = open_page(page_name)
    assert not at.exception
    assert "studio-max.keras is corrupt or not a Keras model" in shown(at, ("error",))
    assert "delete it and retrain, or pick another" in shown(at, ("error",))


def test_a_model_for_other_images_is_refused_by_name(models_copy, kmnist_data):
    inputs = keras.Input((32, 32, 3))
    other = keras.Model(inputs, keras.layers.Dense(5)(keras.layers.Flatten()(inputs)))
    (models_copy / "studio-max.keras").unlink()
    other.save(models_copy / "studio-max.keras")
    at = open_page("sketch")
    assert not at.exception
    assert "takes (32, 32, 3) and gives (5,)" in shown(at, ("error",))


def start_training(at, name: str, **numbers) -> AppTest:
    at.text_input(key="model_name").set_value(name)
    for key, value in numbers.items():
        at.number_input(key=key).set_value(value)
    return at.button(key="start").click().run()


def wait_for_job(at, timeout=150) -> AppTest:
    deadline = time.monotonic() + timeout
    while jobs.current().state in snapshots.ACTIVE and time.monotonic() < deadline:
        time.sleep(0.5)
    return at.run()


def test_out_of_memory_inside_training_is_shown_and_the_page_stays_usable(models_copy, kmnist_data,
                                                                          monkeypatch):
    real_trainer = supervisor.TRAINER
    monkeypatch.setattr(supervisor, "TRAINER", "tests.fault_trainers:out_of_memory")  # in the child process
    at = wait_for_job(start_training(open_page("training"), "oom", epochs=1, limit=300))
    assert not at.exception and jobs.current().state == snapshots.FAILED
    assert "ran out of memory" in shown(at, ("error",)) and "smaller batch size" in shown(at, ("error",))
    assert not list(models_copy.glob("oom*"))
    monkeypatch.setattr(supervisor, "TRAINER", real_trainer)
    at = wait_for_job(start_training(at, "after-oom", epochs=1, limit=300, batch_size=64))
    assert jobs.current().state == snapshots.FINISHED, shown(at)
    assert (models_copy / "after-oom.keras").is_file(), sorted(p.name for p in models_copy.iterdir())


def test_a_models_folder_that_cannot_be_created_starts_nothing(tmp_path, monkeypatch, kmnist_data):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the models folder should be")
    monkeypatch.setenv("KMNIST_MODELS", str(blocker / "models"))
    before = jobs.current()
    at = start_training(open_page("training"), "nowhere", epochs=1, limit=300)
    assert not at.exception and jobs.current() is before
    assert "cannot create the models folder" in shown(at, ("error",))
    assert "KMNIST_MODELS" in shown(at, ("error",))


def test_a_full_disk_while_saving_keeps_every_model_and_says_so(models_copy, kmnist_data, monkeypatch):
    before = {p.name: p.read_bytes() for p in models_copy.iterdir()}
    monkeypatch.setattr(supervisor, "TRAINER", "tests.fault_trainers:full_disk")  # a full disk in the child
    at = wait_for_job(start_training(open_page("training"), "full", epochs=1, limit=300, batch_size=64))
    assert not at.exception and jobs.current().state == snapshots.FAILED
    message = shown(at, ("error",))
    assert "No space left on device" in message and "free some disk space" in message
    assert {p.name: p.read_bytes() for p in models_copy.iterdir()} == before  # nothing half-written


# Valid JSON of the wrong shape as a card, beside a working model (found by probing: these crashed pages).
WRONG_CARDS = {"wrong types": {"name": 5, "test": "x", "config": []},
               "text accuracy": {"test": {"accuracy": "high"}},
               "a list": [1, 2]}
MODEL_PICKERS = {"sketch": "sketch_model", "layers": "layers_model", "pooling": "part1_model"}


@pytest.mark.parametrize("card", WRONG_CARDS, ids=list(WRONG_CARDS))
@pytest.mark.parametrize("page_name", ["home", "dataset", "training", "layers", "sketch", "pooling"])
def test_a_card_of_the_wrong_shape_is_reported_and_never_reaches_the_page(page_name, card, models_copy,
                                                                          kmnist_data):
    import json
    import shutil

    shutil.copy2(models_copy / "studio-max.keras", models_copy / "odd.keras")
    (models_copy / "odd.card.json").write_text(json.dumps(WRONG_CARDS[card]))
    at = open_page(page_name)
    assert not at.exception, at.exception
    if page_name == "home":
        assert "**odd**: model card odd.card.json is not a KMNIST Studio card" in shown(at, ("warning",))
    if page_name in MODEL_PICKERS:
        picker = at.selectbox(key=MODEL_PICKERS[page_name])
        labels = [str(option) for option in picker.options]
        picker.select_index(next(i for i, label in enumerate(labels) if label.startswith("odd"))).run()
        assert not at.exception, at.exception
        assert "odd: model card odd.card.json is not a KMNIST Studio card" in shown(at, ("warning",))
