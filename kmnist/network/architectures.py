"""The CNNs: our default "studio" network and the classic Keras simple CNN, pooling as a parameter."""

from __future__ import annotations

from kmnist.data.classes import NUM_CLASSES
from kmnist.data.pixels import IMAGE_SIDE

INPUT_SHAPE = (IMAGE_SIDE, IMAGE_SIDE, 1)


POOLING_LAYERS = {"max": "MaxPooling2D", "avg": "AveragePooling2D"}  # pooling name -> Keras layer class


POOLINGS = tuple(POOLING_LAYERS)                  # ("max", "avg")


POOLING_WORDS = {"max": "max", "avg": "average"}  # how the pages say each pooling


ARCHITECTURE_NOTES = {  # the networks by name, each in one line
    "studio": "two blocks of two 3x3 Conv2D (ReLU) + 2x2 pooling + dropout, then a dense layer and softmax",
    "classic": "the Keras simple CNN: two 3x3 Conv2D (ReLU), one 2x2 pooling, a dense layer and softmax",
}


ARCHITECTURES = tuple(ARCHITECTURE_NOTES)  # ("studio", "classic")


def pooling_problem(pooling) -> str | None:
    """Why `pooling` is not a pooling name (None when it is one)."""
    if pooling in POOLINGS:
        return None
    return f"pooling must be {' or '.join(map(repr, POOLINGS))}, not {pooling!r}"


def architecture_problem(architecture) -> str | None:
    """Why `architecture` is not an architecture name (None when it is one)."""
    if architecture in ARCHITECTURES:
        return None
    return f"architecture must be {' or '.join(map(repr, ARCHITECTURES))}, not {architecture!r}"


def pooling_of_layer(layer) -> str | None:
    """'max' or 'avg' for a Keras pooling layer, None for any other layer."""
    kind = type(layer).__name__
    return next((name for name, cls in POOLING_LAYERS.items() if cls == kind), None)


def _pool(pooling: str, name: str):
    import keras

    if problem := pooling_problem(pooling):
        raise ValueError(problem)
    return getattr(keras.layers, POOLING_LAYERS[pooling])(2, name=name)


def build_classic(pooling: str = "max", dropout: float = 0.25):
    """The 'Keras simple CNN' of the KMNIST benchmarks (95.12 % on the official split)."""
    import keras
    from keras import layers

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
                 dense_units: int = 256, dense_dropout: float = 0.4):
    """Two blocks of [Conv2D -> Conv2D -> pooling -> dropout], then flatten -> dense -> softmax.

    'valid' convolutions and a narrow first layer keep each epoch cheap on a CPU, so more epochs
    of augmented data fit in the classic CNN's time budget; that, not depth, buys the accuracy.
    (Batch normalisation doubled the time per epoch here and did not pay for itself.)
    """
    import keras
    from keras import layers

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


BUILDERS = {"studio": build_studio, "classic": build_classic}


def build_model(pooling: str = "max", architecture: str = "studio", dropout: float | None = None,
                **kwargs):
    """The network for `architecture`, uncompiled; a max/avg pair differs only in pooling."""
    if problem := architecture_problem(architecture):
        raise ValueError(problem)
    if dropout is not None:
        kwargs["dropout"] = dropout
    return BUILDERS[architecture](pooling, **kwargs)


def compile_model(model, optimizer, label_smoothing: float = 0.0):
    """Categorical cross-entropy with accuracy and macro one-vs-rest AUC (one-hot labels)."""
    import keras

    model.compile(
        optimizer=optimizer,
        loss=keras.losses.CategoricalCrossentropy(label_smoothing=label_smoothing),
        metrics=["accuracy", keras.metrics.AUC(multi_label=True, num_labels=NUM_CLASSES,
                                               name="auc")],
    )
    return model
