"""ONNX twins (kmnist.registry.export): parity with Keras, card records, training's twin, the CLI's export."""

import json
import shutil
from dataclasses import replace

import keras
import numpy as np
import onnx
import onnxruntime
import pytest

from kmnist.data.pixels import to_model_input
from kmnist.network.config import TrainConfig
from kmnist.registry import export, hashing, store
from kmnist.registry.cards import Status
from kmnist.registry.errors import ModelError
from kmnist.registry.inference import load_classifier, verified_onnx
from kmnist.training.run import train
from tests.test_cli import kmnist, kmnist_here

pytestmark = pytest.mark.real_data


def without_twin(source_folder, folder, name="studio-max"):
    """Copy model `name` (.keras and card) into `folder`, its card without an "onnx" record."""
    folder.mkdir(exist_ok=True)
    shutil.copy(source_folder / f"{name}.keras", folder / f"{name}.keras")
    card = replace(store.read_card(source_folder / f"{name}.keras"), onnx=None)
    store.write_card(folder / f"{name}.keras", card)
    return folder / f"{name}.keras", card


@pytest.fixture(scope="module")
def exported(trained_models, kmnist_data, tmp_path_factory):
    """A trained model whose twin kmnist.registry.export has just written (one conversion for the module)."""
    path, card_before = without_twin(trained_models, tmp_path_factory.mktemp("export"))
    result = export.export_model(path, to_model_input(kmnist_data.x_test[:export.CHECK_IMAGES]))
    return path, card_before, result


def test_onnx_runtime_gives_what_keras_gives_for_every_output(exported, kmnist_data):
    path, _, result = exported
    images = to_model_input(kmnist_data.x_test[:100])
    session = onnxruntime.InferenceSession(store.onnx_path(path), providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == ["image"]
    assert session.get_inputs()[0].shape == ["batch", 28, 28, 1]
    assert [o.name for o in session.get_outputs()] == ["probabilities", "first_conv", "first_pool"]
    got = dict(zip(export.OUTPUT_NAMES, session.run(None, {"image": images}), strict=True))

    model = store.load_model(path)  # the reference: the Keras model's own layers, not the twin's
    layers = {output.name: output.layer for output in result.record.outputs}
    assert layers == {"probabilities": "softmax", "first_conv": "conv1", "first_pool": "pool1"}
    probe = keras.Model(model.input, [model.get_layer(layers[name]).output for name in export.OUTPUT_NAMES])
    expected = dict(zip(export.OUTPUT_NAMES, probe.predict_on_batch(images), strict=True))
    for name in export.OUTPUT_NAMES:
        assert got[name].shape == expected[name].shape
        assert np.abs(got[name] - expected[name]).max() <= 1e-5, name
        assert result.max_difference[name] <= 1e-5
    assert got["first_conv"].shape == (100, 26, 26, 16) and got["first_pool"].shape == (100, 12, 12, 32)
    assert result.checked_on == 100 and 0 < result.seconds < 60


def test_the_card_records_the_twin_and_keeps_every_other_field(exported):
    path, card_before, result = exported
    card = store.read_card(path)
    record = card.onnx
    assert replace(card, onnx=None) == card_before
    assert record == result.record
    assert record.file == "studio-max.onnx"
    assert record.sha256 == hashing.content_sha256(store.onnx_path(path).read_bytes())
    assert record.keras_sha256 == hashing.content_sha256(path.read_bytes())
    assert record.opset == export.OPSET
    assert onnx.load(store.onnx_path(path)).opset_import[0].version == export.OPSET
    assert [o.name for o in record.outputs] == list(export.OUTPUT_NAMES)
    assert record.outputs[0].shape == (None, 10)
    text = store.card_path(path).read_text()
    assert json.loads(text)["onnx"]["outputs"][0]["shape"] == [None, 10]
    assert str(path.parent) not in text and "/tmp" not in text  # a relative name, never a machine path


def test_exporting_the_same_model_again_gives_the_same_bytes(exported, tmp_path):
    path, _, result = exported
    copy = tmp_path / "again.keras"
    shutil.copy(path, copy)
    again = export.write_onnx(store.load_model(copy), copy)
    assert again.record.sha256 == result.record.sha256
    assert sorted(p.name for p in tmp_path.iterdir()) == ["again.keras", "again.onnx"]  # no temp left


def test_a_model_without_feature_maps_gets_no_twin(tmp_path):
    inputs = keras.Input((28, 28, 1))
    flat = keras.Model(inputs, keras.layers.Dense(10, activation="softmax")(keras.layers.Flatten()(inputs)))
    with pytest.raises(ModelError, match="has no Conv2D layer"):
        export.write_onnx(flat, tmp_path / "flat.keras")
    assert list(tmp_path.iterdir()) == []


def test_training_writes_the_twin_of_the_final_model_only(kmnist_data, tmp_path):
    path = tmp_path / "fresh.keras"
    twin_during_training = []

    def watch(record):  # the epoch-1 checkpoint is on disk while epoch 2 runs
        if record["kind"] == "batch" and record["epoch"] == 2:
            twin_during_training.append((path.exists(), store.onnx_path(path).exists()))

    result = train(TrainConfig(epochs=2, limit=400, batch_size=64, seed=3), kmnist_data, path, [watch])
    # the checkpoint is there, its twin is not (checkpoints get none)
    assert twin_during_training and all(state == (True, False) for state in twin_during_training)
    assert verified_onnx(path).sha256 == result.card.onnx.sha256
    assert store.read_card(path) == result.card
    assert load_classifier(path).engine == "ONNX Runtime"


def test_a_failed_export_keeps_the_model_and_the_card_says_why(kmnist_data, tmp_path, monkeypatch):
    def broken_export(self, *args, **kwargs):
        raise RuntimeError("simulated converter failure")

    monkeypatch.setattr(keras.Model, "export", broken_export)
    path = tmp_path / "kept.keras"
    result = train(TrainConfig(epochs=1, limit=300, batch_size=64), kmnist_data, path)
    assert result.status == "complete" and "ONNX twin could not be written" in result.message
    card = store.read_card(path)
    assert card.status is Status.COMPLETE and card.test is not None and card == result.card
    assert "could not write the ONNX twin kept.onnx" in card.onnx.error and card.onnx.file is None
    assert "simulated converter failure" in card.onnx.error
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kept.card.json", "kept.keras"]  # no half twin
    classifier = load_classifier(path)
    assert classifier.engine == "Keras" and "simulated converter failure" in classifier.fallback_reason
    assert classifier.probabilities(to_model_input(kmnist_data.x_test[:2])).shape == (2, 10)


def test_the_cli_exports_by_name_and_only_when_needed(trained_models, tmp_path):
    path, _ = without_twin(trained_models, tmp_path / "models")
    env = {"KMNIST_MODELS": str(path.parent)}

    first = kmnist("export", "studio-max", env=env)
    assert first.returncode == 0, first.stderr[-2000:]
    record = store.read_card(path).onnx
    assert "studio-max has no ONNX twin yet" in first.stdout
    assert "python -m kmnist export" not in first.stdout  # no advice to run the command just run
    assert f"wrote {store.onnx_path(path)}" in first.stdout and record.sha256 in first.stdout
    assert f"opset    {export.OPSET}" in first.stdout
    line = next(line for line in first.stdout.splitlines() if "max |ONNX Runtime - Keras|" in line)
    assert "on 100 test images" in line
    assert all(float(value) <= 1e-5 for value in line.split(":")[-1].replace(",", "").split()[1::2])

    second = kmnist_here("export", path, env=env)  # by path this time
    assert second.returncode == 0 and "is up to date" in second.stdout and "wrote" not in second.stdout

    store.onnx_path(path).write_bytes(b"changed")
    third = kmnist_here("export", "studio-max", env=env)
    assert third.returncode == 0, third.stderr[-2000:]
    assert "studio-max.onnx does not match the card" in third.stdout and "wrote" in third.stdout
    assert "python -m kmnist export" not in third.stdout
    assert verified_onnx(path).sha256 == record.sha256  # the same model gives the same twin again

    missing = kmnist("export", "nosuchmodel", env=env)
    assert missing.returncode == 2 and "nosuchmodel.keras not found" in missing.stderr
    assert json.loads(store.card_path(path).read_text())["onnx"] == record.to_dict()
