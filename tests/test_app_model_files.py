"""AppTest of a model card's downloads (kmnist.ui.model_card): the model, its ONNX twin and its card, each
read only when its button is clicked; a missing file is named with its fix instead of a button."""

import json

import pytest
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.testing.v1 import AppTest

from kmnist.registry import store
from tests.conftest import sample_card


def cards_page():
    from kmnist.registry import store
    from kmnist.ui.model_card import model_card

    for entry in store.list_models():
        model_card(entry, expanded=True)


@pytest.fixture
def folder(tmp_path, monkeypatch):
    """The models folder: "full" with its twin and card, "lone" without a twin, "bare" without a card."""
    monkeypatch.setenv(store.MODELS_ENV, str(tmp_path))
    for name in ("full", "lone", "bare"):
        store.model_path(name, tmp_path).write_bytes(f"{name} keras".encode())
    for name in ("full", "lone"):
        store.write_card(store.model_path(name, tmp_path), sample_card("max"))
    store.onnx_path(store.model_path("full", tmp_path)).write_bytes(b"full onnx")
    return tmp_path


@pytest.fixture
def deferred(monkeypatch) -> dict:
    """file name -> (callable, MIME type) of each download whose bytes are made only when it is clicked."""
    found = {}
    register = MediaFileManager.add_deferred

    def add_deferred(self, data_callable, mimetype, coordinates, file_name=None, **kwargs):
        found[file_name] = (data_callable, mimetype)
        return register(self, data_callable, mimetype, coordinates, file_name=file_name, **kwargs)

    monkeypatch.setattr(MediaFileManager, "add_deferred", add_deferred)
    return found


def test_a_model_card_offers_the_model_its_twin_and_its_card_read_when_clicked(folder, deferred):
    at = AppTest.from_function(cards_page).run()
    assert not at.exception
    model = store.model_path("full", folder)
    files = (model, store.onnx_path(model), store.card_path(model))
    for path in files:
        button = at.download_button(key=f"model-card-download-{path.name}")
        assert button.label == path.name and button.proto.deferred_file_id and not button.proto.url
        read, _ = deferred[path.name]
        assert read() == path.read_bytes()
    assert deferred["full.card.json"][1] == "application/json"
    assert json.loads(deferred["full.card.json"][0]())["config"]["pooling"] == "max"
    model.write_bytes(b"retrained")  # the bytes are read on the click, not when the page was drawn
    assert deferred["full.keras"][0]() == b"retrained"


def test_a_missing_twin_or_card_is_named_with_its_fix_instead_of_a_button(folder, deferred):
    at = AppTest.from_function(cards_page).run()
    assert not at.exception
    shown = {button.label for button in at.download_button}
    assert shown == {"full.keras", "full.onnx", "full.card.json", "lone.keras", "lone.card.json",
                     "bare.keras"}
    captions = [caption.value for caption in at.caption]
    fix = "run `python -m kmnist export lone` to write it"
    assert f":material/block: No ONNX twin: lone.onnx is missing; {fix}." in captions
    assert ":material/block: No model card: bare.card.json is missing; retrain it." in captions
