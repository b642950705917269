"""kmnist.registry.inference: ONNX Runtime on a verified twin; Keras when it is missing, corrupt or wrong."""

import shutil
import threading
import time
from dataclasses import replace

import numpy as np
import pytest

from kmnist.data.pixels import to_model_input
from kmnist.drawing import predict_drawing
from kmnist.registry import locks, store
from kmnist.registry.cards import OnnxRecord
from kmnist.registry.errors import ModelError
from kmnist.registry.export import export_command
from kmnist.registry.hashing import content_sha256
from kmnist.registry.inference import (
    KERAS,
    ONNX_RUNTIME,
    KerasClassifier,
    OnnxClassifier,
    load_classifier,
    session_options,
    verified_onnx,
)
from tests.test_drawing import drawing

pytestmark = pytest.mark.real_data


@pytest.fixture
def folder(trained_models, tmp_path):
    """A private copy of the trained max/avg pair with their twins (training wrote them)."""
    shutil.copytree(trained_models, tmp_path / "models")
    return tmp_path / "models"


@pytest.fixture(scope="module")
def images(kmnist_data):
    return to_model_input(kmnist_data.x_test[:100])


@pytest.fixture(scope="module")
def keras_max(trained_models):
    return store.load_model(trained_models / "studio-max.keras")


def set_card_sha(model_path, sha256):
    card = store.read_card(model_path)
    store.write_card(model_path, replace(card, onnx=replace(card.onnx, sha256=sha256)))


def test_a_valid_twin_answers_with_onnx_runtime_like_keras(folder, images, keras_max):
    path = folder / "studio-max.keras"
    twin = verified_onnx(path)
    assert twin.path == folder / "studio-max.onnx"
    assert twin.sha256 == store.read_card(path).onnx.sha256 == content_sha256(twin.path.read_bytes())
    classifier = load_classifier(path)
    assert isinstance(classifier, OnnxClassifier)
    assert classifier.engine == ONNX_RUNTIME and classifier.fallback_reason is None
    probabilities = classifier.probabilities(images)
    assert probabilities.shape == (100, 10) and probabilities.dtype == np.float32
    assert np.abs(probabilities - keras_max.predict_on_batch(images)).max() <= 1e-5
    one = classifier.probabilities(images[0, ..., 0])  # one (28, 28) image
    np.testing.assert_allclose(one, probabilities[:1], atol=1e-6)
    uint8 = classifier.probabilities((images * 255).round().astype("uint8"))  # uint8 is scaled to [0, 1]
    assert np.abs(uint8 - probabilities).max() < 1e-2


def problem_and_fallback(path, keras_max, images):
    """The error verified_onnx raises for `path`, after checking that the classifier falls back to Keras
    with that reason and answers exactly as the Keras model does (the twin is never used)."""
    with pytest.raises(ModelError) as raised:
        verified_onnx(path)
    classifier = load_classifier(path, model=keras_max)
    assert isinstance(classifier, KerasClassifier) and classifier.engine == KERAS
    assert classifier.lock is locks.model_lock(keras_max)  # the lock the Layer visualizer's probes take
    assert classifier.fallback_reason == str(raised.value)
    np.testing.assert_array_equal(classifier.probabilities(images), keras_max.predict_on_batch(images))
    return str(raised.value)


def test_a_missing_twin_is_reported_by_name_with_the_fix(folder, keras_max, images):
    (folder / "studio-max.onnx").unlink()
    problem = problem_and_fallback(folder / "studio-max.keras", keras_max, images)
    assert "studio-max.onnx is missing" in problem
    assert f"`{export_command(folder / 'studio-max.keras')}`" in problem


def test_a_corrupt_twin_is_reported_by_name_and_not_used(folder, keras_max, images):
    garbage = b"\x08\x07 not an onnx model"
    (folder / "studio-max.onnx").write_bytes(garbage)
    set_card_sha(folder / "studio-max.keras", content_sha256(garbage))  # so only loading can tell
    problem = problem_and_fallback(folder / "studio-max.keras", keras_max, images)
    assert "studio-max.onnx is corrupt" in problem and "python -m kmnist export" in problem


def test_a_mismatching_twin_is_reported_by_name_and_not_used(folder, keras_max, images):
    # a valid ONNX file, but the twin of the avg model: running it would give the wrong answers
    shutil.copy(folder / "studio-avg.onnx", folder / "studio-max.onnx")
    problem = problem_and_fallback(folder / "studio-max.keras", keras_max, images)
    assert "studio-max.onnx does not match the card of studio-max" in problem
    assert "python -m kmnist export" in problem
    assert load_classifier(folder / "studio-avg.keras").engine == ONNX_RUNTIME  # its own model still is


def test_a_twin_of_an_older_keras_file_is_not_used(folder, keras_max, images):
    shutil.copy(folder / "studio-avg.keras", folder / "studio-max.keras")  # the model file was replaced
    problem = problem_and_fallback(folder / "studio-max.keras", keras_max, images)
    assert "studio-max.onnx was made from another studio-max.keras" in problem
    assert "python -m kmnist export" in problem


def test_a_card_copied_from_another_model_does_not_lend_it_its_twin(folder, keras_max, images):
    for suffix in (".keras", ".card.json"):
        shutil.copy(folder / f"studio-max{suffix}", folder / f"mine{suffix}")
    problem = problem_and_fallback(folder / "mine.keras", keras_max, images)
    assert "the card of mine records the twin studio-max.onnx, not mine.onnx" in problem


def test_a_card_without_a_twin_record_falls_back_to_keras(folder, keras_max, images):
    path = folder / "studio-max.keras"
    card = store.read_card(path)
    store.write_card(path, replace(card, onnx=OnnxRecord(error="could not write the ONNX twin: disk full")))
    assert "twin was not written (could not write the ONNX twin: disk full)" in problem_and_fallback(
        path, keras_max, images)
    store.write_card(path, replace(card, onnx=None))  # a card from before twins existed
    assert "studio-max has no ONNX twin yet" in problem_and_fallback(path, keras_max, images)


def test_without_a_model_argument_keras_is_loaded_from_disk(folder):
    (folder / "studio-max.onnx").unlink()
    classifier = load_classifier(folder / "studio-max.keras")
    assert classifier.engine == KERAS and classifier.model.output_shape == (None, 10)
    (folder / "studio-max.keras").unlink()
    with pytest.raises(ModelError, match="studio-max.keras not found"):
        load_classifier(folder / "studio-max.keras")


def test_onnx_runtime_uses_one_thread_per_prediction():
    options = session_options()
    assert options.intra_op_num_threads == 1 and options.inter_op_num_threads == 1


def test_the_models_lock_lets_one_prediction_run_at_a_time(folder, images):
    classifier = load_classifier(folder / "studio-max.keras")
    session = classifier.session
    assert classifier.lock is locks.model_lock(session)
    running, most = [0], [0]

    class Counting:  # stands in for the ONNX Runtime session and counts overlapping runs
        def run(self, *args):
            running[0] += 1
            most[0] = max(most[0], running[0])
            time.sleep(0.01)
            running[0] -= 1
            return session.run(*args)

    classifier.session = Counting()
    threads = [threading.Thread(target=classifier.probabilities, args=(images[:4],)) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert most[0] == 1


def test_predict_drawing_takes_a_classifier_or_a_keras_model(folder, keras_max):
    onnx_answer = predict_drawing(load_classifier(folder / "studio-max.keras"), drawing())
    keras_answer = predict_drawing(keras_max, drawing())  # older callers pass the Keras model
    np.testing.assert_array_equal(onnx_answer.image, keras_answer.image)
    assert np.abs(onnx_answer.probabilities - keras_answer.probabilities).max() <= 1e-5
    assert [t["class"] for t in onnx_answer.top(3)] == [t["class"] for t in keras_answer.top(3)]
