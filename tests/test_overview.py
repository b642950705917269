"""kmnist.inspect.overview: the network at a glance for one input, and which layer a click on it names."""

import numpy as np
import pytest

from kmnist.inspect import grids, probes
from kmnist.inspect.overview import SHOWN, overview
from kmnist.network.architectures import build_model
from kmnist.network.layers import dense_layers, spatial_layers


@pytest.fixture(scope="module")
def studio():
    return build_model("max", "studio")


@pytest.fixture(scope="module")
def image():
    return np.random.default_rng(0).random((28, 28)).astype("float32")


def test_one_column_per_layer_after_the_input_each_with_its_strongest_maps(studio, image):
    outputs = probes.layer_outputs(studio, image)
    glance = overview(studio, image, outputs)
    spatial = spatial_layers(studio)
    assert glance.layers == spatial and len(glance.stages) == 1 + len(spatial)
    title, grid, channels = glance.stages[0]
    assert title == "input" and set(np.unique(channels)) == {-1, 0}
    for (title, grid, channels), layer in zip(glance.stages[1:], spatial, strict=True):
        maps = outputs[layer.output]
        assert title == f"{layer.name} ({maps.shape[2]})" and grid.shape == channels.shape
        shown = [int(c) for c in np.unique(channels) if c >= 0]
        assert sorted(shown) == sorted(grids.strongest_maps(maps, SHOWN).tolist())
    last = dense_layers(studio)[-1]
    assert glance.dense[0] == f"{last.name} ({outputs[last.output].size})"
    np.testing.assert_array_equal(glance.dense[1], outputs[last.output])


def test_a_click_on_a_layers_map_names_the_layer_and_the_map(studio, image):
    glance = overview(studio, image, probes.layer_outputs(studio, image), shown=2)
    assert glance.clicked((1, 5)) == (glance.layers[0].name, 5)
    assert glance.clicked((len(glance.layers), 0)) == (glance.layers[-1].name, 0)
    assert glance.clicked((0, 0)) is None and glance.clicked(None) is None  # the input has no layer
    assert glance.clicked((len(glance.layers) + 1, 0)) is None  # the dense units and softmax either


def test_the_strongest_map_has_the_highest_mean():
    maps = np.zeros((3, 3, 4))
    maps[..., 2] = 1.0
    maps[0, 0, 3] = 5.0  # a higher peak, a lower mean
    assert grids.strongest_map(maps) == 2
