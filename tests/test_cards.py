"""Unit tests of kmnist.registry.cards: the card schema, and the typed Card a valid card becomes."""

import json
import math
import pickle
from dataclasses import FrozenInstanceError, fields

import pytest

from kmnist.network.config import TrainConfig
from kmnist.registry import cards, store
from kmnist.registry.cards import Card, DataRecord, OnnxOutput, OnnxRecord, Status, TestMetrics
from kmnist.registry.errors import ModelError
from kmnist.training.result import STOPPED_EMPTY
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



def test_the_status_words_are_one_enum_and_the_schema_allows_exactly_them():
    words = ["training", "complete", "early-stopped", "stopped", "failed"]
    assert [status.value for status in Status] == words
    assert cards.SCHEMA["properties"]["status"]["enum"] == [status.value for status in Status]
    assert Status("early-stopped") is Status.EARLY_STOPPED and f"{Status.STOPPED}" == "stopped"
    assert Status.COMPLETE == "complete" and json.dumps(Status.FAILED) == '"failed"'
    assert cards.card_problems({"status": STOPPED_EMPTY})  # a TrainResult's word, never a card's
    with pytest.raises(ValueError):
        Status("done")


def test_every_field_the_schema_allows_is_an_attribute_of_the_typed_card():
    def names(part):
        return {f.name for f in fields(part)}

    properties = cards.SCHEMA["properties"]
    assert set(properties) == names(Card) - {"config_fields"}
    assert set(properties["config"]["properties"]) == names(TrainConfig)
    assert set(properties["data"]["properties"]) == names(DataRecord)
    assert set(properties["test"]["properties"]) == names(TestMetrics)
    assert set(properties["onnx"]["properties"]) == names(OnnxRecord)
    assert set(properties["onnx"]["properties"]["outputs"]["items"]["properties"]) == names(OnnxOutput)
    # so a field the Card could not keep is refused, at the top and inside each part
    assert cards.card_problems({"colour": "red"}) == [
        "the card: Additional properties are not allowed ('colour' was unexpected)"]
    for part in ("config", "data", "test", "onnx"):
        assert cards.card_problems({part: {"colour": "red"}}), part


def shipped_and_trained(trained_models):
    return sorted(store.MODELS_DIR.glob("*.card.json")) + sorted(trained_models.glob("*.card.json"))


def test_shipped_and_trained_cards_round_trip_exactly_through_the_typed_card(trained_models):
    paths = shipped_and_trained(trained_models)
    assert len(paths) == 4, paths
    for path in paths:
        text = path.read_text(encoding="utf-8")
        values = json.loads(text)
        typed = Card.from_dict(values)
        assert typed.to_dict() == values, path.name
        # the same keys in the same order: rewriting a card (as export does) changes no byte
        assert json.dumps(typed.to_dict(), indent=2, ensure_ascii=False) + "\n" == text, path.name
        assert store.read_card(path.with_name(path.name.replace(".card.json", ".keras"))) == typed
        assert pickle.loads(pickle.dumps(typed)) == typed  # it crosses the training process's pipe


def test_a_card_s_parts_are_typed(trained_models):
    for path in shipped_and_trained(trained_models):
        values = json.loads(path.read_text())
        typed = Card.from_dict(values)
        assert typed.name == values["name"] and typed.status in (Status.COMPLETE, Status.EARLY_STOPPED)
        assert isinstance(typed.status, Status)
        assert typed.config == TrainConfig(**values["config"])
        assert typed.config_fields == tuple(f.name for f in fields(TrainConfig))
        assert isinstance(typed.data, DataRecord) and typed.data.official is values["data"]["official"]
        assert typed.data.md5 == values["data"]["md5"] and typed.data.used == values["data"]["used"]
        assert isinstance(typed.test, TestMetrics) and typed.test.accuracy == values["test"]["accuracy"]
        assert len(typed.test.per_class_accuracy) == 10 and len(typed.test.confusion[9]) == 10
        assert isinstance(typed.test.confusion, tuple)  # no list to change inside a frozen card
        assert typed.onnx.file == path.name.replace(".card.json", ".onnx") and typed.onnx.error is None
        assert [output.name for output in typed.onnx.outputs] == ["probabilities", "first_conv", "first_pool"]
        assert typed.onnx.outputs[0].shape == (None, 10)
        assert typed.history[0]["epoch"] == 1 and typed.epochs_run == len(values["history"])
        assert typed.best_epoch == values["best_epoch"] and typed.training_seconds > 0
        with pytest.raises(FrozenInstanceError):
            typed.status = Status.FAILED


def test_a_card_missing_optional_parts_keeps_them_missing():
    interrupted = {"status": "training", "best_epoch": 3}
    typed = Card.from_dict(interrupted)
    assert typed.status is Status.TRAINING and typed.best_epoch == 3
    assert (typed.test, typed.config, typed.data, typed.onnx, typed.history, typed.name) == (None,) * 6
    assert typed.to_dict() == interrupted
    assert Card.from_dict({}).to_dict() == {} and Card.from_dict({}).status is None

    # a config from before some settings existed: TrainConfig's defaults fill in, the card adds none
    older = {"config": {"pooling": "avg", "seed": 1}, "test": {"accuracy": 0.5, "per_class_accuracy":
                                                                [math.nan] + [0.5] * 9}}
    typed = Card.from_dict(older)
    assert typed.config.pooling == "avg" and typed.config.seed == 1
    assert typed.config.epochs == TrainConfig().epochs and typed.config_fields == ("pooling", "seed")
    assert typed.test.macro_auc is None and math.isnan(typed.test.per_class_accuracy[0])
    assert json.dumps(typed.to_dict()) == json.dumps(older)

    failed = Card.from_dict({"status": "failed", "error": "MemoryError: out", "onnx": {"error": "disk full"}})
    assert failed.status is Status.FAILED and failed.onnx == OnnxRecord(error="disk full")
    assert failed.onnx.file is None and failed.to_dict()["onnx"] == {"error": "disk full"}


def test_the_headline_names_the_model_its_figures_and_how_its_run_ended():
    values = card("max", accuracy=0.975) | {"name": "studio-max"}
    headline = "studio-max · test accuracy 97.50% · macro AUC 0.9900 · complete"
    assert Card.from_dict(values).headline() == headline
    close = Card.from_dict(values | {"test": values["test"] | {"accuracy": 0.9755}}).headline()
    assert "97.55%" in close and close != headline  # two decimals tell them apart
    assert Card.from_dict(values).headline("copy").startswith("copy · ")  # the file's name wins
    assert Card.from_dict({"status": "training"}).headline("crashed") == "crashed · not tested · training"
    assert Card.from_dict({"test": {"accuracy": 0.5}}).headline() == "unnamed model · test accuracy 50.00%"
