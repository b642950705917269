"""The worked-out convolution agrees with Keras' Conv2D, value by value, for both paddings and strides."""

import numpy as np
import pytest

from kmnist.inspect import convolution


def keras_conv(inputs, filters, padding, strides, activation="relu", seed=0):
    """A Conv2D with random weights and bias, and its output for `inputs` (H, W, C)."""
    import keras

    layer = keras.layers.Conv2D(filters, 3, strides=strides, padding=padding, activation=activation)
    layer.build((1, *inputs.shape))
    rng = np.random.default_rng(seed)
    kernel = rng.normal(size=(3, 3, inputs.shape[2], filters)).astype("float32")
    bias = rng.normal(scale=0.5, size=filters).astype("float32")
    layer.set_weights([kernel, bias])
    return kernel, bias, np.asarray(layer(inputs[None].astype("float32")))[0]


@pytest.mark.parametrize("padding, strides", [("valid", 1), ("same", 1), ("same", 2), ("valid", 2)])
def test_every_position_matches_keras(padding, strides):
    rng = np.random.default_rng(1)
    inputs = rng.random((9, 8, 3))
    kernel, bias, expected = keras_conv(inputs, 4, padding, strides, activation="linear")
    rows, cols, count = expected.shape
    assert (rows, cols) == tuple(convolution.output_size(n, 3, strides, padding) for n in (9, 8))
    for row in range(rows):
        for col in range(cols):
            for f in range(count):
                worked = convolution.work_out(inputs, kernel, bias, row, col, f, strides, padding, "linear")
                assert worked.value == pytest.approx(float(expected[row, col, f]), abs=1e-5)


def test_relu_and_the_steps_add_up():
    rng = np.random.default_rng(2)
    inputs = rng.random((6, 6, 2))
    kernel, bias, expected = keras_conv(inputs, 5, "valid", 1)
    worked = convolution.work_out(inputs, kernel, bias, 2, 3, 4)
    np.testing.assert_allclose(worked.window, inputs[2:5, 3:6])
    np.testing.assert_allclose(worked.products, inputs[2:5, 3:6] * kernel[..., 4])
    assert worked.total == pytest.approx(worked.channel_sums.sum())
    assert worked.pre_activation == pytest.approx(worked.total + float(bias[4]))
    assert worked.value == max(worked.pre_activation, 0.0)
    assert worked.value == pytest.approx(float(expected[2, 3, 4]), abs=1e-5)
    assert not worked.padded.any() and (worked.top, worked.left) == (2, 3)
    negative = next(f for f in range(5) if convolution.work_out(inputs, kernel, bias, 0, 0, f)
                    .pre_activation < 0)  # seed 2 has one: the ReLU turns it into 0
    assert convolution.work_out(inputs, kernel, bias, 0, 0, negative).value == 0.0


def test_same_padding_puts_zeros_under_a_border_window():
    inputs = np.ones((5, 5, 1))
    kernel = np.ones((3, 3, 1, 1))
    corner = convolution.work_out(inputs, kernel, [0.0], 0, 0, 0, padding="same")
    assert (corner.top, corner.left) == (-1, -1)
    assert corner.padded.tolist() == [[True, True, True], [True, False, False], [True, False, False]]
    assert corner.window[..., 0].tolist() == [[0, 0, 0], [0, 1, 1], [0, 1, 1]]
    assert corner.value == 4.0
    middle = convolution.work_out(inputs, kernel, [0.0], 2, 2, 0, padding="same")
    assert not middle.padded.any() and middle.value == 9.0
    assert convolution.pad_before(28, 3, 1, "valid") == 0 and convolution.pad_before(28, 3, 1, "same") == 1
    assert convolution.pad_before(28, 3, 2, "same") == 0  # 14 windows need 1 zero: TensorFlow puts it after


def test_strongest_channels_and_inputs():
    inputs = np.ones((3, 3, 3))
    kernel = np.zeros((3, 3, 3, 2))
    kernel[..., 0, 0], kernel[..., 1, 0], kernel[..., 2, 0] = 0.1, -0.5, 0.2
    kernel[..., 2, 1] = 1.0
    worked = convolution.work_out(inputs, kernel, [0.0, 0.0], 0, 0, 0)
    assert worked.strongest_channels(2).tolist() == [1, 2]
    assert convolution.strongest_inputs(kernel).tolist() == [[1, 2, 0], [2, 0, 1]]


def test_bad_arguments_say_what_is_wrong():
    inputs, kernel = np.zeros((5, 5, 1)), np.zeros((3, 3, 1, 2))
    with pytest.raises(ValueError, match="outside the 3x3x2 output"):
        convolution.work_out(inputs, kernel, [0, 0], 3, 0, 0)
    with pytest.raises(ValueError, match="same C"):
        convolution.work_out(np.zeros((5, 5, 2)), kernel, [0, 0], 0, 0, 0)
    with pytest.raises(ValueError, match="padding must be"):
        convolution.work_out(inputs, kernel, [0, 0], 0, 0, 0, padding="full")
    with pytest.raises(ValueError, match="'tanh' is not worked out"):
        convolution.work_out(inputs, kernel, [0, 0], 0, 0, 0, activation="tanh")


def test_the_largest_contribution_is_the_largest_in_size_and_says_which_way_it_pushes():
    inputs = np.ones((3, 3, 3))
    kernel = np.zeros((3, 3, 3, 1))
    kernel[..., 0, 0], kernel[..., 1, 0], kernel[..., 2, 0] = 0.3, -0.5, 0.0  # sums +2.7, -4.5, 0
    worked = convolution.work_out(inputs, kernel, [0.0], 0, 0, 0, activation="linear")
    assert worked.strongest_channels(3).tolist() == [1, 0, 2]  # the most negative is the largest in size
    assert worked.contribution(1) == "-4.500000: it pushes the value down"
    assert worked.contribution(0) == "+2.700000: it pushes the value up"
    assert worked.contribution(2) == "+0.000000: it leaves the value as it is"
