"""A trained model's learned features (its last dense layer) for a batch of images, for the 2-D maps."""

from __future__ import annotations

import numpy as np

from kmnist.data.pixels import to_model_input
from kmnist.network.layers import dense_layers
from kmnist.registry.locks import model_lock


def feature_layer(model) -> str:
    """The name of the output holding `model`'s learned features: its last hidden Dense layer, the one
    the softmax reads (see kmnist.inspection.dense_layers)."""
    hidden = dense_layers(model)
    if not hidden:
        raise ValueError(f"model {model.name} has no hidden Dense layer before its softmax, so it has no "
                         "learned features to map; pick a model trained by KMNIST Studio")
    return hidden[-1].output


def learned_features(model, images: np.ndarray, batch_size: int = 512) -> np.ndarray:
    """`model`'s learned features of `images`: its feature_layer's output, float32 (N, units).

    One batched predict (inference mode: dropout passes everything), under the model's lock because a
    cached model is shared by every session.
    """
    import keras

    with model_lock(model):
        probe = keras.Model(model.input, model.get_layer(feature_layer(model)).output)
        features = probe.predict(to_model_input(images), batch_size=batch_size, verbose=0)
    return np.asarray(features, dtype=np.float32).reshape(len(images), -1)
