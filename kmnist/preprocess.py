"""Turn uint8 KMNIST arrays into model inputs: scaling, stratified splits and tf.data pipelines."""

from __future__ import annotations

import numpy as np
from sklearn.model_selection import train_test_split

from kmnist.classes import NUM_CLASSES


def to_model_input(images: np.ndarray) -> np.ndarray:
    """uint8 (N, 28, 28) -> float32 (N, 28, 28, 1) in [0, 1]."""
    images = np.asarray(images)
    scale = 255.0 if images.dtype == np.uint8 else 1.0
    return (images.astype("float32") / scale)[..., None]


def stratified_subset(x: np.ndarray, y: np.ndarray, limit: int | None, seed: int):
    """At most `limit` examples with the class proportions of `y` (all of them when limit is None)."""
    if limit is None or limit >= len(y):
        return x, y
    keep, _ = train_test_split(np.arange(len(y)), train_size=limit, stratify=y, random_state=seed)
    keep.sort()
    return x[keep], y[keep]


def train_val_split(x: np.ndarray, y: np.ndarray, val_fraction: float = 0.2, seed: int = 0):
    """Stratified, seeded split into (x_train, y_train), (x_val, y_val)."""
    x_train, x_val, y_train, y_val = train_test_split(
        x, y, test_size=val_fraction, stratify=y, random_state=seed)
    return (x_train, y_train), (x_val, y_val)


def augmenter(seed: int = 0, shift: float = 0.08, rotation: float = 0.03, zoom: float = 0.08):
    """Small random shifts, rotations and zooms: the variation of hand-written characters."""
    import keras

    return keras.Sequential(
        [
            keras.layers.RandomTranslation(shift, shift, fill_mode="constant", seed=seed),
            keras.layers.RandomRotation(rotation, fill_mode="constant", seed=seed + 1),
            keras.layers.RandomZoom(zoom, fill_mode="constant", seed=seed + 2),
        ],
        name="augment",
    )


def make_dataset(x: np.ndarray, y: np.ndarray, batch_size: int, *, shuffle: bool = False,
                 augment: bool = False, seed: int = 0):
    """A tf.data pipeline of (float images, one-hot labels); images stay uint8 until batched."""
    import tensorflow as tf

    dataset = tf.data.Dataset.from_tensor_slices((x, y))
    if shuffle:
        dataset = dataset.shuffle(len(y), seed=seed, reshuffle_each_iteration=True)
    dataset = dataset.batch(batch_size)

    def to_float(images, labels):
        images = tf.cast(images, tf.float32)[..., None] / 255.0
        return images, tf.one_hot(tf.cast(labels, tf.int32), NUM_CLASSES)

    dataset = dataset.map(to_float, num_parallel_calls=tf.data.AUTOTUNE)
    if augment:
        layers = augmenter(seed)
        dataset = dataset.map(lambda images, labels: (layers(images, training=True), labels),
                              num_parallel_calls=tf.data.AUTOTUNE)
    return dataset.prefetch(tf.data.AUTOTUNE)
