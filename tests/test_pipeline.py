"""Unit tests of kmnist.training.pipeline (splits, the tf.data pipeline) and the scaling in kmnist.images."""

import numpy as np
import pytest

from kmnist.data.pixels import to_model_input
from kmnist.training.pipeline import augmenter, make_dataset, train_val_split, training_subset


def synthetic(n=200):
    rng = np.random.default_rng(1)
    return rng.integers(0, 256, (n, 28, 28), dtype=np.uint8), (np.arange(n) % 10).astype(np.uint8)


def test_to_model_input_scales_and_adds_channel():
    x = np.array([[[0, 255]]], dtype=np.uint8).repeat(28, 1).repeat(14, 2)
    out = to_model_input(x)
    assert out.shape == (1, 28, 28, 1) and out.dtype == np.float32
    assert out.min() == 0.0 and out.max() == 1.0


def test_split_is_stratified_and_seeded():
    x, y = synthetic()
    (xt, yt), (xv, yv) = train_val_split(x, y, 0.2, seed=3)
    assert len(yv) == 40 and np.bincount(yv).tolist() == [4] * 10
    (xt2, _), _ = train_val_split(x, y, 0.2, seed=3)
    assert np.array_equal(xt, xt2)
    (xt3, _), _ = train_val_split(x, y, 0.2, seed=4)
    assert not np.array_equal(xt, xt3)


def test_subset_keeps_class_balance():
    x, y = synthetic()
    xs, ys = training_subset(x, y, 100, seed=0)
    assert len(ys) == 100 and np.bincount(ys).tolist() == [10] * 10
    assert training_subset(x, y, None, 0)[0] is x


def test_dataset_batches_float_images_and_one_hot_labels():
    x, y = synthetic(70)
    batches = list(make_dataset(x, y, 32, shuffle=True, augment=True, seed=0))
    assert [b[0].shape[0] for b in batches] == [32, 32, 6]
    images, labels = batches[0]
    assert images.shape[1:] == (28, 28, 1) and images.dtype.name == "float32"
    assert float(images.numpy().max()) <= 1.0 + 1e-6
    assert labels.shape == (32, 10) and np.allclose(labels.numpy().sum(1), 1)


def test_unshuffled_dataset_keeps_order():
    x, y = synthetic(20)
    images, labels = next(iter(make_dataset(x, y, 20)))
    assert np.allclose(images.numpy()[..., 0], x / 255.0)
    assert labels.numpy().argmax(1).tolist() == y.tolist()


def test_shuffling_or_augmenting_needs_a_seed():
    x, y = synthetic(40)
    for options in ({"shuffle": True}, {"augment": True}):
        with pytest.raises(ValueError, match="needs a seed"):
            make_dataset(x, y, 8, **options)


def test_stroke_thickness_thickens_and_thins_strokes_and_is_off_by_default():
    line = np.zeros((64, 28, 28, 1), np.float32)
    line[:, 4:24, 13] = 1.0  # a one-pixel vertical stroke
    still = {"shift_px": 0.0, "rotation_deg": 0.0, "zoom": 0.0}
    assert np.allclose(augmenter(0, **still)(line).numpy(), line)
    ink = augmenter(0, stroke_thickness=1.0, **still)(line).numpy()
    assert ink.min() >= 0.0 and ink.max() <= 1.0 + 1e-6
    totals = ink.sum(axis=(1, 2, 3))
    assert (totals > line[0].sum() + 1).any() and (totals < line[0].sum() - 1).any()  # thicker and thinner
    assert ink[:, 4:24, 12].max() > 0 and ink[:, 4:24, 14].max() > 0  # thicker: into both neighbours
    default, explicit = augmenter(5), augmenter(5, stroke_thickness=0.0)
    assert np.array_equal(default(line).numpy(), explicit(line).numpy())
