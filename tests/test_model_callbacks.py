"""Unit tests of kmnist.network.architectures and kmnist.training.callbacks on synthetic arrays."""

import threading

import keras
import numpy as np
import pytest

from kmnist.data.pixels import to_uint8
from kmnist.network.architectures import build_model, compile_model
from kmnist.training.callbacks import BestCheckpoint, StopOnEvent, StreamingCallback, strip_indices


def toy_problem(n=64):
    rng = np.random.default_rng(0)
    y = np.arange(n) % 10
    x = rng.random((n, 28, 28, 1), dtype=np.float32) * 0.2
    for i, label in enumerate(y):  # a learnable signal: a bright row at the label's height
        x[i, 2 + 2 * label, :, 0] = 1.0
    return x, y


@pytest.mark.parametrize("architecture", ["studio", "classic"])
@pytest.mark.parametrize("pooling, layer_type", [("max", "MaxPooling2D"), ("avg", "AveragePooling2D")])
def test_models_start_with_input_and_differ_only_in_pooling(architecture, pooling, layer_type):
    model = build_model(pooling, architecture)
    assert model.input_shape == (None, 28, 28, 1) and model.output_shape == (None, 10)
    names = [layer.name for layer in model.layers]
    assert {"flatten", "dense", "softmax"} <= set(names) and len(names) == len(set(names))
    assert layer_type in {type(layer).__name__ for layer in model.layers}
    twin = build_model("max" if pooling == "avg" else "avg", architecture)
    assert [layer.name for layer in twin.layers] == names
    assert twin.count_params() == model.count_params()


def test_bad_pooling_is_rejected():
    with pytest.raises(ValueError, match="pooling must be 'max' or 'avg'"):
        build_model("median")


def test_streaming_callback_emits_batches_epochs_and_validation_auc():
    keras.utils.set_random_seed(0)
    x, y = toy_problem()
    model = compile_model(build_model("max", "classic"), keras.optimizers.Adam(1e-3))
    records = []
    streaming = StreamingCallback((x, y), [records.append], train_size=len(y))
    history = model.fit(x, keras.utils.to_categorical(y, 10), batch_size=16, epochs=2,
                        callbacks=[streaming], verbose=0)
    kinds = [r["kind"] for r in records]
    assert kinds[0] == "begin" and kinds[-1] == "end"
    assert kinds.count("batch") == 8 and kinds.count("epoch") == 2
    epoch = [r for r in records if r["kind"] == "epoch"][-1]
    assert {"loss", "accuracy", "auc", "val_loss", "val_accuracy", "val_auc"} <= set(epoch)
    assert 0.0 <= epoch["val_auc"] <= 1.0
    # the callback's validation numbers reach Keras' history (EarlyStopping reads the same logs)
    assert history.history["val_loss"][-1] == pytest.approx(epoch["val_loss"])
    batch = [r for r in records if r["kind"] == "batch"]
    assert [b["step"] for b in batch] == list(range(1, 9))
    # running mean over the epoch is consistent with the per-batch losses
    first_epoch = [b for b in batch if b["epoch"] == 1]
    assert np.mean([b["batch_loss"] for b in first_epoch]) == pytest.approx(first_epoch[-1]["loss"], rel=1e-4)


def test_streaming_callback_streams_batch_accuracy_a_fixed_strip_and_the_first_filters():
    keras.utils.set_random_seed(1)
    x, y = toy_problem(48)
    x_val, y_val = x[::-1][:30], y[::-1][:30]  # reversed: the strip is not simply the first ten images
    model = compile_model(build_model("max", "studio"), keras.optimizers.Adam(1e-3))
    records = []
    model.fit(x, keras.utils.to_categorical(y, 10), batch_size=16, epochs=2, verbose=0,
              callbacks=[StreamingCallback((x_val, y_val), [records.append])])
    begin = records[0]
    assert strip_indices(y_val) == [int(np.flatnonzero(y_val == k)[0]) for k in range(10)]
    assert begin["strip_labels"] == list(range(10))
    assert begin["strip_images"].dtype == np.uint8 and begin["strip_images"].shape == (10, 28, 28)
    assert np.array_equal(begin["strip_images"], to_uint8(x_val[strip_indices(y_val), ..., 0]))
    batches = [r for r in records if r["kind"] == "batch" and r["epoch"] == 2]
    assert np.mean([b["batch_accuracy"] for b in batches]) == pytest.approx(batches[-1]["accuracy"], abs=1e-6)
    assert all(0 <= b["batch_accuracy"] <= 1 for b in batches)
    glimpses = [r for r in records if r["kind"] == "glimpse"]
    assert [g["epoch"] for g in glimpses] == [1, 2]
    assert [r["kind"] for r in records].index("glimpse") == [r["kind"] for r in records].index("epoch") + 1
    # the last glimpse is the trained model's own view of the strip, and its first layer as it ends
    probabilities = model.predict(x_val[strip_indices(y_val)], verbose=0)
    assert glimpses[-1]["predicted"] == probabilities.argmax(axis=1).tolist()
    assert glimpses[-1]["confidence"] == pytest.approx(probabilities.max(axis=1).tolist(), abs=1e-5)
    kernel = model.get_layer("conv1").get_weights()[0][:, :, 0, :].transpose(2, 0, 1)
    assert glimpses[-1]["filters"].shape == (16, 3, 3) and np.allclose(glimpses[-1]["filters"], kernel)
    assert not np.allclose(begin["filters"], kernel)  # the start's filters, before any update


def test_a_failing_listener_does_not_stop_training():
    x, y = toy_problem(32)
    model = compile_model(build_model("avg", "classic"), "adam")
    good = []

    def broken(record):
        raise RuntimeError("chart exploded")

    model.fit(x, keras.utils.to_categorical(y, 10), batch_size=16, epochs=1, verbose=0,
              callbacks=[StreamingCallback((x, y), [broken, good.append])])
    assert good[-1]["kind"] == "end"


def test_stop_event_ends_training_at_next_batch_without_validating_half_epochs():
    x, y = toy_problem(64)
    model = compile_model(build_model("max", "classic"), "adam")
    event = threading.Event()
    records, saved = [], []

    def listener(record):
        records.append(record)
        if record["kind"] == "batch" and record["step"] == 6:
            event.set()

    callbacks = [StreamingCallback((x, y), [listener]),
                 BestCheckpoint(lambda m, epoch, logs: saved.append(epoch)),
                 StopOnEvent(event)]
    model.fit(x, keras.utils.to_categorical(y, 10), batch_size=16, epochs=5, verbose=0,
              callbacks=callbacks)
    epochs = [r for r in records if r["kind"] == "epoch"]
    assert len(epochs) == 2 and epochs[1].get("interrupted") and "val_loss" not in epochs[1]
    assert [r["epoch"] for r in records if r["kind"] == "glimpse"] == [1]  # none of a half epoch
    assert [r["step"] for r in records if r["kind"] == "batch"][-1] == 6
    assert saved == [1]  # only the full first epoch was a checkpoint candidate
    assert records[-1] == records[-1] | {"kind": "end", "stopped": True, "epochs_done": 1}


def test_best_checkpoint_saves_only_improvements():
    saved = []
    checkpoint = BestCheckpoint(lambda model, epoch, logs: saved.append((epoch, logs["val_loss"])),
                                monitor="val_loss")
    for epoch, loss in enumerate([1.0, 0.8, 0.9, float("nan"), 0.5, 0.5]):
        checkpoint.on_epoch_end(epoch, {"val_loss": loss})
    checkpoint.on_epoch_end(6, {"loss": 0.1})  # no validation: not a candidate
    assert saved == [(1, 1.0), (2, 0.8), (5, 0.5)] and checkpoint.best_epoch == 5


def test_the_best_epoch_is_the_highest_validation_accuracy_the_latest_of_a_tie():
    saved = []
    checkpoint = BestCheckpoint(lambda model, epoch, logs: saved.append(epoch))
    assert checkpoint.monitor == "val_accuracy"
    for epoch, (accuracy, loss) in enumerate([(0.90, 0.3), (0.95, 0.2), (0.94, 0.1), (0.95, 0.4),
                                              (float("nan"), 0.1), (0.93, 0.05)]):
        checkpoint.on_epoch_end(epoch, {"val_accuracy": accuracy, "val_loss": loss})
    assert saved == [1, 2, 4] and checkpoint.best_epoch == 4  # a lower loss alone is no better
