"""The CNNs: our default "studio" network and the classic Keras simple CNN, pooling as a parameter."""

from __future__ import annotations

import keras
from keras import layers

from kmnist.classes import NUM_CLASSES

INPUT_SHAPE = (28, 28, 1)
POOLINGS = {"max": layers.MaxPooling2D, "avg": layers.AveragePooling2D}
ARCHITECTURES = ("studio", "classic")


def _pool(pooling: str, name: str):
    if pooling not in POOLINGS:
        raise ValueError(f"pooling must be 'max' or 'avg', not {pooling!r}")
    return POOLINGS[pooling](2, name=name)


def build_classic(pooling: str = "max", dropout: float = 0.25) -> keras.Model:
    """The 'Keras simple CNN' of the KMNIST benchmarks (95.12 % on the official split)."""
    inputs = keras.Input(INPUT_SHAPE, name="image")
    x = layers.Conv2D(32, 3, activation="relu", name="conv1")(inputs)
    x = layers.Conv2D(64, 3, activation="relu", name="conv2")(x)
    x = _pool(pooling, "pool1")(x)
    x = layers.Dropout(dropout, name="dropout1")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(128, activation="relu", name="dense")(x)
    x = layers.Dropout(0.5, name="dropout_dense")(x)
    outputs = layers.Dense(NUM_CLASSES, activation="softmax", name="softmax")(x)
    return keras.Model(inputs, outputs, name=f"classic_{pooling}")


def build_studio(pooling: str = "max", dropout: float = 0.25, filters=(16, 32, 64, 64),
                 dense_units: int = 256, dense_dropout: float = 0.4) -> keras.Model:
    """Two blocks of [Conv2D -> Conv2D -> pooling -> dropout], then flatten -> dense -> softmax.

    'valid' convolutions and a narrow first layer keep each epoch cheap on a CPU, so more epochs
    of augmented data fit in the classic CNN's time budget; that, not depth, buys the accuracy.
    (Batch normalisation doubled the time per epoch here and did not pay for itself.)
    """
    inputs = keras.Input(INPUT_SHAPE, name="image")
    x = inputs
    for block in (1, 2):
        for layer in (2 * block - 1, 2 * block):
            x = layers.Conv2D(filters[layer - 1], 3, activation="relu", name=f"conv{layer}")(x)
        x = _pool(pooling, f"pool{block}")(x)
        x = layers.Dropout(dropout, name=f"dropout{block}")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(dense_units, activation="relu", name="dense")(x)
    x = layers.Dropout(dense_dropout, name="dropout_dense")(x)
    outputs = layers.Dense(NUM_CLASSES, activation="softmax", name="softmax")(x)
    return keras.Model(inputs, outputs, name=f"studio_{pooling}")


def build_model(pooling: str = "max", architecture: str = "studio", dropout: float | None = None,
                **kwargs) -> keras.Model:
    """The network for `architecture`, uncompiled; the max and avg twins differ only in pooling."""
    if architecture not in ARCHITECTURES:
        raise ValueError(f"architecture must be one of {ARCHITECTURES}, not {architecture!r}")
    builder = build_studio if architecture == "studio" else build_classic
    if dropout is not None:
        kwargs["dropout"] = dropout
    return builder(pooling, **kwargs)


def compile_model(model: keras.Model, optimizer, label_smoothing: float = 0.0) -> keras.Model:
    """Categorical cross-entropy with accuracy and macro one-vs-rest AUC (one-hot labels)."""
    model.compile(
        optimizer=optimizer,
        loss=keras.losses.CategoricalCrossentropy(label_smoothing=label_smoothing),
        metrics=["accuracy", keras.metrics.AUC(multi_label=True, num_labels=NUM_CLASSES,
                                               name="auc")],
    )
    return model
