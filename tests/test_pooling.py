"""Pooling arithmetic on synthetic arrays, checked by hand and against Keras' own layers."""

import numpy as np
import pytest

from kmnist.inspect import pooling

MAP = np.array([[1, 2, 0, 0],
                [3, 4, 0, 8],
                [-1, -1, 5, 5],
                [-1, -5, 5, 5]], dtype="float32")


def test_pool2x2_max_and_average_by_hand():
    assert pooling.pool2x2(MAP, "max").tolist() == [[4, 8], [-1, 5]]
    assert pooling.pool2x2(MAP, "avg").tolist() == [[2.5, 2], [-2, 5]]


def test_pool2x2_drops_an_odd_edge_and_pools_channels_separately():
    odd = np.arange(25, dtype=float).reshape(5, 5)
    assert pooling.pool2x2(odd, "max").tolist() == [[6, 8], [16, 18]]
    stacked = np.stack([MAP, -MAP], axis=-1)
    pooled = pooling.pool2x2(stacked, "max")
    assert pooled.shape == (2, 2, 2)
    assert pooled[..., 1].tolist() == [[-1, 0], [5, -5]]


def test_pool2x2_matches_keras_layers():
    import keras

    rng = np.random.default_rng(0)
    maps = rng.normal(size=(1, 7, 9, 3)).astype("float32")
    for mode, layer in (("max", keras.layers.MaxPooling2D(2)), ("avg", keras.layers.AveragePooling2D(2))):
        np.testing.assert_allclose(pooling.pool2x2(maps[0], mode), np.asarray(layer(maps))[0], atol=1e-6)


def test_pool2x2_rejects_bad_input():
    with pytest.raises(ValueError, match="'max' or 'avg'"):
        pooling.pool2x2(MAP, "min")
    with pytest.raises(ValueError, match="H, W >= 2"):
        pooling.pool2x2(np.zeros(4), "max")


def test_window_values_max_mean_and_position():
    window = pooling.window(MAP, 0, 1)
    assert window.values.tolist() == [[0, 0], [0, 8]]
    assert (window.max, window.mean) == (8.0, 2.0)
    assert (window.input_rows, window.input_cols) == ((0, 1), (2, 3))
    assert window.max == pooling.pool2x2(MAP, "max")[0, 1]
    assert window.mean == pooling.pool2x2(MAP, "avg")[0, 1]
    with pytest.raises(ValueError, match="outside the 2x2 pooled map"):
        pooling.window(MAP, 2, 0)


def test_telling_window_and_liveliest_channel():
    assert pooling.telling_window(MAP) == (0, 1)  # max 8 vs mean 2: the biggest disagreement
    maps = np.zeros((4, 4, 3))
    maps[..., 2] = MAP
    assert pooling.liveliest_channel(maps) == 2


def test_clamp_keeps_choices_inside_a_smaller_map():
    assert pooling.clamp(None, 12, default=3) == 3
    assert pooling.clamp(40, 12, default=3) == 11
    assert pooling.clamp(-2, 12, default=3) == 0
    assert pooling.pooled_shape((13, 9, 16)) == (6, 4)


def test_largest_gap_is_the_biggest_absolute_difference():
    assert pooling.largest_gap(MAP, MAP) == 0.0
    assert pooling.largest_gap(MAP, MAP + np.eye(4) * -3) == 3.0
