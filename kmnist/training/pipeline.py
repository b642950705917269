"""The training input pipeline: stratified subsets and splits, augmentation, tf.data batches."""

from __future__ import annotations

import numpy as np
from sklearn.model_selection import train_test_split

from kmnist.data.classes import NUM_CLASSES
from kmnist.data.pixels import PIXEL_MAX


def training_subset(x: np.ndarray, y: np.ndarray, limit: int | None, seed: int):
    """At most `limit` examples with the class proportions of `y` (all of them when limit is None)."""
    if limit is None or limit >= len(y):
        return x, y
    keep, _ = train_test_split(np.arange(len(y)), train_size=limit, stratify=y, random_state=seed)
    keep.sort()
    return x[keep], y[keep]


def train_val_split(x: np.ndarray, y: np.ndarray, val_fraction: float, seed: int):
    """Stratified, seeded split into (x_train, y_train), (x_val, y_val)."""
    x_train, x_val, y_train, y_val = train_test_split(
        x, y, test_size=val_fraction, stratify=y, random_state=seed)
    return (x_train, y_train), (x_val, y_val)


def split_indices(y: np.ndarray, limit: int | None, val_fraction: float, seed: int):
    """Positions in `y` of a run's training and validation images: `training_subset` of them, then
    `train_val_split` (the same images those two give, in the same order), so a card can say which
    images of the copy trained its model."""
    subset, labels = training_subset(np.arange(len(y)), y, limit, seed)
    (train, _), (validation, _) = train_val_split(subset, labels, val_fraction, seed)
    return train, validation


def augmenter(seed: int, shift_px: float = 2.0, rotation_deg: float = 10.0, zoom: float = 0.1,
              stroke_thickness: float = 0.0):
    """A function that gives each image of a float batch (B, 28, 28, 1) a random small rotation, zoom
    and shift: the variation of hand-written characters; with `stroke_thickness` above 0, first thicker
    or thinner strokes (a blend toward the image's 3x3 dilation or erosion, weight drawn per image from
    -stroke_thickness to +stroke_thickness), the variation between writers and brushes.

    The three are combined into ONE affine transform and the image is resampled once. Chaining
    Keras' RandomRotation, RandomZoom and RandomTranslation resamples three times and blurs the thin
    28x28 strokes, which costs accuracy.
    """
    import tensorflow as tf

    generator = tf.random.Generator.from_seed(seed)

    def augment(images):
        count = tf.shape(images)[0]
        if stroke_thickness:
            weight = generator.uniform([count, 1, 1, 1], -stroke_thickness, stroke_thickness)
            thicker = tf.nn.max_pool2d(images, 3, 1, "SAME")
            thinner = -tf.nn.max_pool2d(-images, 3, 1, "SAME")
            images = (images + tf.maximum(weight, 0.0) * (thicker - images)
                      + tf.maximum(-weight, 0.0) * (thinner - images))
        height, width = (tf.cast(tf.shape(images)[i], tf.float32) for i in (1, 2))
        angle = generator.uniform([count], -rotation_deg, rotation_deg) * (np.pi / 180.0)
        scale = generator.uniform([count], 1.0 - zoom, 1.0 + zoom)
        shift_x, shift_y = (generator.uniform([count], -shift_px, shift_px) for _ in range(2))
        cos, sin = tf.cos(angle) / scale, tf.sin(angle) / scale
        centre_x, centre_y = (width - 1.0) / 2.0, (height - 1.0) / 2.0
        origin_x, origin_y = centre_x + shift_x, centre_y + shift_y
        # output pixel p samples the input at A (p - origin) + centre
        zeros = tf.zeros_like(cos)
        transforms = tf.stack([cos, sin, centre_x - (cos * origin_x + sin * origin_y),
                               -sin, cos, centre_y - (-sin * origin_x + cos * origin_y),
                               zeros, zeros], axis=1)
        return tf.raw_ops.ImageProjectiveTransformV3(
            images=images, transforms=transforms, output_shape=tf.shape(images)[1:3],
            fill_value=0.0, interpolation="BILINEAR", fill_mode="CONSTANT")

    augment.generator = generator  # the generator must live as long as the function
    return augment


def make_dataset(x: np.ndarray, y: np.ndarray, batch_size: int, *, shuffle: bool = False,
                 augment: bool = False, seed: int | None = None, stroke_thickness: float = 0.0):
    """A tf.data pipeline of (float images, one-hot labels); images stay uint8 until batched.

    `seed` (required to shuffle or augment) makes the order and the augmentation repeatable;
    `stroke_thickness` (see augmenter) acts only when augmenting.
    """
    import tensorflow as tf

    if (shuffle or augment) and seed is None:
        raise ValueError("shuffling or augmenting needs a seed (the recipe's, e.g. TrainConfig.seed)")
    dataset = tf.data.Dataset.from_tensor_slices((x, y))
    if shuffle:
        dataset = dataset.shuffle(len(y), seed=seed, reshuffle_each_iteration=True)
    dataset = dataset.batch(batch_size)

    def to_float(images, labels):
        images = tf.cast(images, tf.float32)[..., None] / PIXEL_MAX  # images.to_model_input, in the graph
        return images, tf.one_hot(tf.cast(labels, tf.int32), NUM_CLASSES)

    dataset = dataset.map(to_float, num_parallel_calls=tf.data.AUTOTUNE)
    if augment:
        augment = augmenter(seed, stroke_thickness=stroke_thickness)
        dataset = dataset.map(lambda images, labels: (augment(images), labels),
                              num_parallel_calls=tf.data.AUTOTUNE)
    return dataset.prefetch(tf.data.AUTOTUNE)
