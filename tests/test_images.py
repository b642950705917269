"""Unit tests for kmnist.data.pixels: scaling to and from [0, 1], model batches, crisp enlargement."""

import numpy as np
import pytest

from kmnist.data import pixels as images


def test_upscale_and_to_uint8():
    image = np.array([[0, 255], [10, 20]], dtype=np.uint8)
    big = images.upscale(image, 3)
    assert big.shape == (6, 6) and big[0:3, 3:6].min() == 255 and big[3:6, 0:3].max() == 10
    assert images.to_uint8(np.array([-3.0, 12.6, 300.0]) / 255).tolist() == [0, 12, 255]  # fractions dropped
    assert images.to_uint8(image) is image


def test_to_float_scales_integers_and_keeps_floats():
    assert images.to_float(np.array([0, 51, 255], dtype=np.uint8)).tolist() == pytest.approx([0.0, 0.2, 1.0])
    assert images.to_float(np.array([0.5], dtype="float64")).tolist() == [0.5]
    assert images.to_float(np.zeros(2, dtype=np.uint8)).dtype == np.float32


def test_as_batch_accepts_uint8_float_and_channel():
    image = np.random.default_rng(0).random((28, 28)).astype("float32")
    as_uint8 = images.to_uint8(image)
    assert images.as_batch(image).shape == (1, 28, 28, 1)
    np.testing.assert_allclose(images.as_batch(as_uint8), images.as_batch(image), atol=1 / 255)
    np.testing.assert_array_equal(images.as_batch(image[..., None]), images.as_batch(image))
    with pytest.raises(ValueError, match="28x28"):
        images.as_batch(np.zeros((14, 14)))
