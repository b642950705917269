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


def _conv_bn(x, filters: int, name: str):
    """Conv2D -> BatchNorm -> ReLU, the unit every studio block repeats."""
    x = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=name)(x)
    x = layers.BatchNormalization(momentum=0.9, name=f"{name}_bn")(x)
    return layers.Activation("relu", name=f"{name}_relu")(x)


def build_studio(pooling: str = "max", dropout: float = 0.25, filters=(32, 64),
                 dense_units: int = 128, dense_dropout: float = 0.4) -> keras.Model:
    """Two blocks of [Conv-BN-ReLU x2 -> pooling -> dropout], then flatten -> dense -> softmax."""
    inputs = keras.Input(INPUT_SHAPE, name="image")
    x = inputs
    for block, width in enumerate(filters, start=1):
        x = _conv_bn(x, width, f"conv{block}a")
        x = _conv_bn(x, width, f"conv{block}b")
        x = _pool(pooling, f"pool{block}")(x)
        x = layers.Dropout(dropout, name=f"dropout{block}")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(dense_units, use_bias=False, name="dense")(x)
    x = layers.BatchNormalization(momentum=0.9, name="dense_bn")(x)
    x = layers.Activation("relu", name="dense_relu")(x)
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


def compile_model(model: keras.Model, optimizer) -> keras.Model:
    """Categorical cross-entropy with accuracy and macro one-vs-rest AUC (one-hot labels)."""
    model.compile(
        optimizer=optimizer,
        loss="categorical_crossentropy",
        metrics=["accuracy", keras.metrics.AUC(multi_label=True, num_labels=NUM_CLASSES,
                                               name="auc")],
    )
    return model
