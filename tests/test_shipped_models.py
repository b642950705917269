"""Shipped models: present, small, a max/avg pair that differs only in pooling, cards that tell the truth."""

from dataclasses import replace

import numpy as np
import pytest

from kmnist.data.pixels import to_model_input
from kmnist.evaluation.metrics import evaluate
from kmnist.registry import store
from kmnist.registry.cards import Status
from kmnist.registry.export import OPSET, OUTPUT_NAMES
from kmnist.registry.hashing import content_sha256
from kmnist.registry.inference import ONNX_RUNTIME, load_classifier, verified_onnx
from tests.conftest import ROOT

SHIPPED = ROOT / "models"
PAIR = ("studio-max", "studio-avg")  # the shipped max/avg pair


@pytest.mark.parametrize("name", PAIR)
def test_shipped_model_has_a_complete_card_and_fits_in_git(name):
    path = store.model_path(name, SHIPPED)
    assert path.is_file(), f"{path} missing: retrain it (see README, 'Shipped models')"
    assert path.stat().st_size < 5_000_000
    card = store.read_card(path)
    assert card.status is Status.COMPLETE
    data = card.data
    assert None not in (data.official, data.sizes, data.md5, data.summary)
    if not data.official:
        assert "NOT the official KMNIST release" in data.summary
    assert 0 < card.test.accuracy <= 1 and len(card.test.per_class_accuracy) == 10
    assert card.training_seconds > 0 and card.versions["keras"].startswith("3.")


def test_the_pair_differs_only_in_pooling():
    cards = [store.read_card(store.model_path(name, SHIPPED)) for name in PAIR]
    assert [card.config.pooling for card in cards] == ["max", "avg"]
    assert replace(cards[0].config, pooling="avg") == cards[1].config
    assert cards[0].config_fields == cards[1].config_fields
    assert cards[0].data.md5 == cards[1].data.md5
    assert cards[0].parameters == cards[1].parameters


@pytest.mark.real_data
@pytest.mark.parametrize("name", PAIR)
def test_card_accuracy_is_the_model_s_and_it_never_saw_an_official_test_image(name, shared_copies):
    path = store.model_path(name, SHIPPED)
    card = store.read_card(path)
    subset = shared_copies["kmnist-subset"]
    assert card.data.name == "kmnist-subset" and card.data.md5 == subset.provenance.md5
    assert {record["split"] for record in card.data.images.values()} == {"train"}  # official training images
    assert card.data.images["trained"]["count"] + card.data.images["validated"]["count"] == 6284
    model = store.load_model(path)
    scores = evaluate(model, subset.x_test, subset.y_test)  # the very data it was tested on
    assert scores["accuracy"] == pytest.approx(card.test.accuracy, abs=1e-6) and scores["count"] == 9000
    assert scores["accuracy"] > 0.93


@pytest.mark.parametrize("name", PAIR)
def test_shipped_model_has_the_onnx_twin_its_card_records(name):
    path = store.model_path(name, SHIPPED)
    record = store.read_card(path).onnx
    twin = verified_onnx(path)
    assert twin.path == SHIPPED / f"{name}.onnx" == SHIPPED / record.file, "run `python -m kmnist export`"
    assert twin.sha256 == record.sha256 == content_sha256(twin.path.read_bytes())
    assert record.keras_sha256 == content_sha256(path.read_bytes())  # made from this very model
    assert record.opset == OPSET and [output.name for output in record.outputs] == list(OUTPUT_NAMES)
    assert twin.path.stat().st_size < 5_000_000


@pytest.mark.real_data
@pytest.mark.parametrize("name", PAIR)
def test_shipped_twin_answers_like_its_keras_model(name, kmnist_data):
    path = store.model_path(name, SHIPPED)
    images = to_model_input(kmnist_data.x_test[:100])
    classifier = load_classifier(path)
    assert classifier.engine == ONNX_RUNTIME, classifier.fallback_reason
    keras_probabilities = store.load_model(path).predict_on_batch(images)
    assert np.abs(classifier.probabilities(images) - keras_probabilities).max() <= 1e-5
