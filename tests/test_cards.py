"""Unit tests of kmnist.registry.cards: the card schema, and the tables and curves read from cards."""

import json

import pytest

from kmnist.registry import cards, store
from kmnist.registry.errors import ModelError
from tests.conftest import sample_card as card

# Valid JSON of the wrong shape, found by probing the pages (issue: cards were trusted blindly).
WRONG_SHAPES = {
    "wrong types": {"name": 5, "test": "x", "config": []},
    "text accuracy": {"test": {"accuracy": "high"}},
    "a list": [1, 2],
}


def test_cards_written_by_training_and_partial_cards_fit_the_schema(trained_models):
    for path in trained_models.glob("*.card.json"):
        assert cards.card_problems(json.loads(path.read_text())) == [], path.name
    assert cards.card_problems(card("max")) == []
    assert cards.card_problems({"status": "training", "best_epoch": 3}) == []  # an interrupted run


@pytest.mark.parametrize("shape", WRONG_SHAPES, ids=list(WRONG_SHAPES))
def test_wrong_shapes_are_named_field_by_field(shape):
    problems = cards.card_problems(WRONG_SHAPES[shape])
    assert problems
    if shape == "wrong types":
        assert any(p.startswith("name: 5 is not of type 'string'") for p in problems)
        assert any(p.startswith("test: 'x' is not of type 'object'") for p in problems)
        assert any(p.startswith("config: [] is not of type 'object'") for p in problems)
    elif shape == "text accuracy":
        assert problems == ["test.accuracy: 'high' is not of type 'number'"]
    else:
        assert problems == ["the card: [1, 2] is not of type 'object'"]


def test_other_wrong_values_are_caught():
    assert cards.card_problems({"config": {"pooling": "median"}})
    assert cards.card_problems({"status": "great"})
    assert cards.card_problems({"test": {"accuracy": 1.5}})
    assert cards.card_problems({"test": {"per_class_accuracy": [0.9] * 3}})


TWIN = {"file": "m.onnx", "sha256": "0" * 64, "opset": 17, "keras_sha256": "1" * 64,
        "outputs": [{"name": "probabilities", "layer": "softmax", "shape": [None, 10]}]}


def test_an_onnx_twin_is_recorded_by_bare_file_name_or_by_why_it_is_missing():
    assert cards.card_problems({"onnx": TWIN}) == []
    assert cards.card_problems({"onnx": {"error": "could not write the ONNX twin m.onnx (...)"}}) == []
    assert cards.card_problems({"onnx": TWIN | {"file": "/home/me/models/m.onnx"}})  # never a machine path
    assert cards.card_problems({"onnx": TWIN | {"file": "../m.onnx"}})
    assert cards.card_problems({"onnx": TWIN | {"sha256": "abc"}})
    assert cards.card_problems({"onnx": TWIN | {"error": "both?"}})
    for key in TWIN:  # a record without any one of its fields
        assert cards.card_problems({"onnx": {k: v for k, v in TWIN.items() if k != key}}), key


@pytest.mark.parametrize("shape", WRONG_SHAPES, ids=list(WRONG_SHAPES))
def test_store_reports_a_wrong_card_and_never_hands_it_out(tmp_path, shape):
    (tmp_path / "odd.keras").write_bytes(b"x")
    (tmp_path / "odd.card.json").write_text(json.dumps(WRONG_SHAPES[shape]))
    with pytest.raises(ModelError, match="odd.card.json is not a KMNIST Studio card"):
        store.read_card(tmp_path / "odd.keras")
    [entry] = store.list_models(tmp_path)
    assert entry.card is None and "is not a KMNIST Studio card" in entry.problem
    assert entry.summary()["trained on"] == "unknown"

