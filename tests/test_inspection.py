"""Unit tests of kmnist.inspect on small untrained models and synthetic images."""

import threading

import numpy as np
import pytest

from kmnist.data.pixels import as_batch, upscale
from kmnist.inspect import gradcam, grids, probes, worked
from kmnist.network import layers as layers_net
from kmnist.network.architectures import build_model


@pytest.fixture(scope="module")
def studio():
    return build_model("max", "studio")


@pytest.fixture(scope="module")
def classic():
    return build_model("avg", "classic")


@pytest.fixture(scope="module")
def bn_net():
    """Conv -> BatchNorm -> ReLU units, as users' own networks often have them."""
    import keras
    from keras import layers

    inputs = keras.Input((28, 28, 1))
    x = layers.Conv2D(8, 3, padding="same", use_bias=False, name="conv1a")(inputs)
    x = layers.BatchNormalization(name="conv1a_bn")(x)
    x = layers.Activation("relu", name="conv1a_relu")(x)
    x = layers.MaxPooling2D(2, name="pool1")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(16, use_bias=False, name="dense")(x)
    x = layers.BatchNormalization(name="dense_bn")(x)
    x = layers.Activation("relu", name="dense_relu")(x)
    return keras.Model(inputs, layers.Dense(10, activation="softmax", name="softmax")(x))


def glyph(seed: int = 0) -> np.ndarray:
    """A synthetic 'character': two strokes on black, float in [0, 1]."""
    image = np.zeros((28, 28), "float32")
    image[6:22, 12:15] = 1.0
    image[10:13, 5:23] = 0.8
    rng = np.random.default_rng(seed)
    return np.clip(image + 0.05 * rng.random((28, 28)), 0, 1).astype("float32")


def test_layer_outputs_every_layer_in_order_without_batch(studio):
    outputs = probes.layer_outputs(studio, glyph())
    assert list(outputs) == [layer.name for layer in layers_net.model_layers(studio)]
    assert outputs["conv1"].shape == (26, 26, 16)
    assert outputs["pool1"].shape == (12, 12, 32)
    assert outputs["pool2"].shape == (4, 4, 64)
    assert outputs["flatten"].shape == (4 * 4 * 64,)
    probabilities = outputs["softmax"]
    assert probabilities.shape == (10,)
    assert probabilities.sum() == pytest.approx(1.0, abs=1e-5)
    # The probe gives the same answer as the model itself (inference mode: dropout off).
    direct = np.asarray(studio(as_batch(glyph()), training=False))[0]
    np.testing.assert_allclose(probabilities, direct, atol=1e-6)


def test_layer_outputs_depend_on_the_image_and_uint8_equals_float(studio):
    first = probes.layer_outputs(studio, glyph(0))
    moved = probes.layer_outputs(studio, np.roll(glyph(0), 5, axis=1))
    assert not np.allclose(first["conv1"], moved["conv1"])
    as_uint8 = probes.layer_outputs(studio, (glyph(0) * 255).round().astype("uint8"))
    np.testing.assert_allclose(as_uint8["softmax"], first["softmax"], atol=1e-3)


def test_probe_is_built_once_per_model_and_safe_from_threads(classic):
    probes.layer_outputs(classic, glyph())
    probe = probes._probes[classic]
    results, errors = [], []

    def work(seed):
        try:
            results.append(probes.layer_outputs(classic, glyph(seed))["softmax"])
        except Exception as error:  # surfaced below
            errors.append(error)

    threads = [threading.Thread(target=work, args=(seed,)) for seed in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert len(results) == 6
    assert probes._probes[classic] is probe


def test_architecture_table(studio, classic):
    table = probes.architecture_table(studio)
    assert [row["layer"] for row in table][:4] == ["conv1", "conv2", "pool1", "dropout1"]
    rows = {row["layer"]: row for row in table}
    assert rows["conv1"] == {"layer": "conv1", "type": "Conv2D", "output_shape": "26×26×16",
                             "parameters": 3 * 3 * 1 * 16 + 16,
                             "what it does": layers_net.LAYER_ROLES["Conv2D"]}
    assert all(row["what it does"] for row in table)  # every layer type of the network is explained
    assert rows["pool2"]["type"] == "MaxPooling2D"
    assert rows["flatten"]["output_shape"] == "1024"
    assert sum(row["parameters"] for row in table) == studio.count_params()
    classic_rows = {row["layer"]: row for row in probes.architecture_table(classic)}
    assert classic_rows["pool1"]["type"] == "AveragePooling2D"
    assert classic_rows["conv1"]["parameters"] == 3 * 3 * 32 + 32


def test_conv_filters(studio, classic):
    first = probes.conv_filters(studio, "conv1")
    kernel = studio.get_layer("conv1").get_weights()[0]
    assert first.shape == (16, 3, 3)
    np.testing.assert_allclose(first[5], kernel[:, :, 0, 5])
    second = probes.conv_filters(classic, "conv2")
    kernel = classic.get_layer("conv2").get_weights()[0]
    assert second.shape == (64, 3, 3)
    np.testing.assert_allclose(second[7], kernel[:, :, :, 7].mean(axis=2), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(probes.conv_filters(classic, "conv2", reduce="first")[7],
                               kernel[:, :, 0, 7])
    with pytest.raises(ValueError, match="not a Conv2D"):
        probes.conv_filters(classic, "pool1")
    with pytest.raises(ValueError, match="reduce"):
        probes.conv_filters(classic, "conv1", reduce="max")


def test_feature_grid_layout_and_normalisation():
    maps = np.stack([np.full((4, 5), float(c)) for c in range(10)], axis=-1)
    maps[0, 0, :] += 1.0  # each map now has a range: its corner is 1 above the rest
    grid = grids.feature_grid(maps, columns=4, pad=1)
    assert grid.shape == (3 * 5 - 1, 4 * 6 - 1)
    assert np.isnan(grid[4, 0]) and np.isnan(grid[0, 5])      # gaps between maps
    assert np.isnan(grid[10:, 2 * 6:]).all()                 # the empty slots after map 9
    assert grid[0, 0] == 1.0 and grid[1, 1] == 0.0           # map 0 stretched to [0, 1]
    assert grid[5, 6] == 1.0 and grid[6, 7] == 0.0           # map 5: row 1, column 1
    overall = grids.feature_grid(maps, columns=4, normalize="all")
    assert overall[6, 7] == pytest.approx(5 / 10)            # one scale for every map
    raw = grids.feature_grid(maps, columns=4, normalize="none", pad_value=-1)
    assert raw[6, 7] == 5.0 and raw[4, 0] == -1
    assert grids.feature_grid(maps[..., :3], columns=8).shape == (4, 3 * 6 - 1)
    with pytest.raises(ValueError):
        grids.feature_grid(maps[..., 0])


def test_feature_grid_of_constant_maps_is_finite():
    grid = grids.feature_grid(np.zeros((3, 3, 4)), columns=2, pad=0)
    assert grid.shape == (6, 6) and np.isfinite(grid).all() and (grid == 0).all()


def test_grid_channels_matches_feature_grid():
    channels = grids.grid_channels((4, 5, 10), columns=4)
    assert channels.shape == (14, 23)
    assert channels[0, 0] == 0 and channels[5, 6] == 5 and channels[10, 0] == 8
    assert channels[4, 0] == -1 and channels[12, 20] == -1


def test_grad_cam_layer(studio, classic, bn_net):
    assert gradcam.grad_cam_layer(studio) == "conv4"
    assert gradcam.grad_cam_layer(bn_net) == "conv1a_relu"
    assert gradcam.grad_cam_layer(classic) == "conv2"


def test_grad_cam_heatmap(studio):
    details = gradcam.grad_cam_details(studio, glyph())
    predicted = int(np.argmax(probes.layer_outputs(studio, glyph())["softmax"]))
    assert details.class_index == predicted
    assert details.method in ("grad-cam", "saliency")
    heatmap = details.heatmap
    assert heatmap.shape == (28, 28) and heatmap.dtype == np.float32
    assert heatmap.min() >= 0 and heatmap.max() == pytest.approx(1.0)
    other = (predicted + 1) % 10
    chosen = gradcam.grad_cam_details(studio, glyph(), class_index=other)
    assert chosen.class_index == other
    np.testing.assert_allclose(gradcam.grad_cam_details(studio, glyph(), other).heatmap, chosen.heatmap)


def test_grad_cam_falls_back_to_saliency_when_no_positive_evidence():
    # With class 4's weights in the last Dense layer set to 0, no gradient reaches the conv maps:
    # Grad-CAM is all zero and the saliency fallback takes over.
    model = build_model("max", "classic")
    weights = model.get_layer("softmax").get_weights()
    weights[0][:, 4] = 0.0
    model.get_layer("softmax").set_weights(weights)
    details = gradcam.grad_cam_details(model, glyph(), class_index=4)
    assert details.method == "saliency"
    assert details.heatmap.shape == (28, 28)
    assert (details.heatmap == 0).all()  # the class ignores the image: nothing to show, no NaN


def test_overlay_and_enlarge():
    image = glyph()
    heat = np.zeros((28, 28), "float32")
    heat[:14] = 1.0
    picture = gradcam.overlay(image, heat)
    assert picture.shape == (28, 28, 3) and picture.dtype == np.uint8
    assert picture[20, 0, 0] == picture[20, 0, 1] == picture[20, 0, 2]  # no heat: grey
    assert picture[2, 0, 0] > picture[2, 0, 2]                           # heat: red tint
    big = upscale(picture, 4)
    assert big.shape == (112, 112, 3)
    assert (big[:4, :4] == picture[0, 0]).all()


def test_a_conv_reads_the_layer_shown_before_it_not_the_dropout_between(studio):
    # studio: ... conv2 -> pool1 -> dropout1 -> conv3: dropout is the identity at inference, so conv3 reads
    # what pool1 gives, under the name the overview and the worked convolution show.
    assert [worked.conv_layer(studio, name).input for name in ("conv1", "conv2", "conv3", "conv4")] == [
        None, "conv1", "pool1", "conv3"]
    outputs = probes.layer_outputs(studio, glyph())
    np.testing.assert_array_equal(worked.conv_input(worked.conv_layer(studio, "conv3"), outputs, glyph()),
                                  outputs["dropout1"])


def test_the_heatmap_and_the_overlay_share_the_heat_colours():
    assert gradcam.heat_colours([0.0, 0.5, 1.0]).tolist() == [[0, 0, 0], [1, 0, 0], [1, 1, 0]]  # HEAT's stops
    heat = np.zeros((28, 28), "float32")
    heat[0, :4] = [0.25, 0.5, 0.75, 1.0]
    picture = gradcam.overlay(np.zeros((28, 28), "float32"), heat, strength=1.0)  # on black: the tint alone
    tint = heat[0, :4, None] * gradcam.heat_colours(heat[0, :4])  # the heatmap colour, as strong as the heat
    np.testing.assert_allclose(picture[0, :4] / 255, tint, atol=1 / 255)
