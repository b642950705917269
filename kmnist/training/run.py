"""Train a KMNIST CNN: a validated config in; best model, ONNX twin, card and test metrics out."""

from __future__ import annotations

import math
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np

from kmnist.data.files import KMNISTData, Provenance
from kmnist.data.origins import seen_images
from kmnist.data.pixels import to_model_input
from kmnist.evaluation.metrics import evaluate, predict_classes
from kmnist.network.architectures import build_model, compile_model
from kmnist.network.config import TrainConfig
from kmnist.registry.cards import Card, OnnxRecord, Status
from kmnist.registry.errors import ModelError
from kmnist.registry.export import CHECK_IMAGES, write_onnx
from kmnist.registry.store import (
    MODEL_SUFFIX,
    check_new_model,
    library_versions,
    load_model,
    now,
    save_model,
    write_card,
)
from kmnist.training.callbacks import KEEP_BEST_BY, BestCheckpoint, StopOnEvent, StreamingCallback
from kmnist.training.pipeline import make_dataset, split_indices
from kmnist.training.result import STOPPED_EMPTY, TrainResult


def choose_strategy():
    """MirroredStrategy when several GPUs are visible, else the default (CPU or one GPU)."""
    import tensorflow as tf

    if len(tf.config.list_logical_devices("GPU")) > 1:
        return tf.distribute.MirroredStrategy()
    return tf.distribute.get_strategy()


def make_optimizer(config: TrainConfig, total_steps: int):
    import keras

    if config.optimizer == "adadelta":
        return keras.optimizers.Adadelta(learning_rate=config.learning_rate)
    # One cycle: warm up from a tenth of the rate over the first fifth of the run, then follow a
    # cosine down to a hundredth of it.
    warmup = max(1, total_steps // 5)
    schedule = keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=config.learning_rate / 10, decay_steps=max(1, total_steps - warmup),
        alpha=0.01, warmup_target=config.learning_rate, warmup_steps=warmup)
    if config.optimizer == "adamw":
        return keras.optimizers.AdamW(learning_rate=schedule, weight_decay=1e-4)
    if config.optimizer == "adam":
        return keras.optimizers.Adam(learning_rate=schedule)
    return keras.optimizers.SGD(learning_rate=schedule, momentum=0.9, nesterov=True)


def train(config: TrainConfig, data: KMNISTData, out_path: str | Path, listeners=(),
          stop_event=None, overwrite: bool = False) -> TrainResult:
    """Train, keep the best epoch (highest validation accuracy) at `out_path` with its card, evaluate it
    on the test set, and write its ONNX twin (kmnist.registry.export) beside it.

    The best checkpoint is written atomically with a card whose status is "training" while the run
    goes on, so a crash or restart leaves a usable model whose card says the run was interrupted.
    """
    import keras


    config.validate(len(data.y_train))
    out_path = Path(out_path)
    check_new_model(out_path, overwrite)

    keras.utils.set_random_seed(config.seed)
    trained, validated = split_indices(data.y_train, config.limit, config.val_fraction, config.seed)
    (x_train, y_train), (x_val, y_val) = ((data.x_train[i], data.y_train[i]) for i in (trained, validated))
    train_set = make_dataset(x_train, y_train, config.batch_size, shuffle=True,
                             augment=config.augment, seed=config.seed,
                             stroke_thickness=config.stroke_thickness)
    steps = math.ceil(len(y_train) / config.batch_size)
    strategy = choose_strategy()
    with strategy.scope():
        model = build_model(config.pooling, config.architecture, dropout=config.dropout)
        compile_model(model, make_optimizer(config, steps * config.epochs), config.label_smoothing)

    history: list[dict] = []
    card = {
        "name": out_path.stem, "status": Status.TRAINING.value, "created": now(),
        "config": asdict(config),
        "data": data.provenance.to_dict() | {
            "used": {"train": len(y_train), "validation": len(y_val), "test": len(data.y_test)}}
        | seen_images(data.origins.get("train"), trained, validated),
        "parameters": int(model.count_params()), "strategy": type(strategy).__name__,
        "versions": library_versions(), "history": history,
    }
    started = time.perf_counter()

    def save_checkpoint(model, epoch, logs):
        card.update(best_epoch=epoch, training_seconds=round(time.perf_counter() - started, 2),
                    validation={k: logs[k] for k in ("val_loss", "val_accuracy", "val_auc")})
        save_model(model, out_path, card)

    streaming = StreamingCallback((to_model_input(x_val), y_val),
                                  [*listeners, lambda r: r["kind"] == "epoch" and history.append(r)],
                                  train_size=len(y_train))
    checkpoint = BestCheckpoint(save_checkpoint)
    stopper = StopOnEvent(stop_event)
    callbacks = [streaming, checkpoint, stopper,
                 keras.callbacks.EarlyStopping(monitor=KEEP_BEST_BY, mode="max", patience=config.patience)]
    try:
        model.fit(train_set, epochs=config.epochs, callbacks=callbacks, verbose=0, shuffle=False)
    except BaseException as error:
        if checkpoint.best_epoch is not None and out_path.exists():
            card.update(status=Status.FAILED.value, error=f"{type(error).__name__}: {error}", finished=now())
            write_card(out_path, card)
        raise
    seconds = time.perf_counter() - started

    if checkpoint.best_epoch is None:
        return TrainResult(STOPPED_EMPTY, "Stopped during epoch 1, before any epoch finished: "
                           "no model was saved.", history)
    best = load_model(out_path)  # without its optimizer: the final file is a third of a checkpoint
    status = (Status.STOPPED if stopper.stopped else
              Status.EARLY_STOPPED if streaming.epochs_done < config.epochs else Status.COMPLETE)
    card.update(status=status.value, finished=now(), training_seconds=round(seconds, 2),
                epochs_run=streaming.epochs_done,
                test=evaluate(best, data.x_test, data.y_test))
    save_model(best, out_path)
    # The final model (never a checkpoint: each conversion takes a while) gets its ONNX twin; if that
    # fails, the model stays and its card says why the twin is missing.
    try:
        twin = write_onnx(best, out_path, to_model_input(data.x_test[:CHECK_IMAGES])).record
    except ModelError as error:
        twin = OnnxRecord(error=str(error))
    card["onnx"] = twin.to_dict()
    write_card(out_path, card)
    typed = Card.from_dict(card)
    message = (f"{typed.headline()}: best epoch {checkpoint.best_epoch} of {streaming.epochs_done} kept in "
               f"{out_path}" + ("; its ONNX twin could not be written (its card says why)" if twin.error
                                 else ""))
    return TrainResult(status, message, history, out_path, typed, best)


def warm_up() -> str:
    """On a worker: one tiny real run (random images, one epoch, its test and its ONNX twin) in a scratch
    folder, with the library's own trainer (never a test's). Imports alone left the first job of a class
    12 s slower than the rest (28 s against 13-17 s); TensorFlow, Keras and the converter do more on
    their first use than importing."""
    generator = np.random.default_rng(0)

    def images(count):
        return generator.integers(0, 256, (count, 28, 28), dtype=np.uint8)

    def labels(count):
        return (np.arange(count) % 10).astype(np.uint8)

    data = KMNISTData(images(120), labels(120), images(20), labels(20),
                      Provenance("warm-up", official=False, sizes={"train": 120, "test": 20}))
    with tempfile.TemporaryDirectory(prefix="kmnist-warm-up-") as scratch:
        result = train(TrainConfig(epochs=1, batch_size=32, patience=1), data,
                       Path(scratch) / f"warm-up{MODEL_SUFFIX}")
        predict_classes(result.model, data.x_test)
    return "warm"
