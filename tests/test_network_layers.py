"""kmnist.network.layers: a network's layers by role (spatial, dense, pooling), on small untrained models."""

import keras
import pytest
from keras import layers

from kmnist.network import layers as roles
from kmnist.network.architectures import ARCHITECTURES, POOLINGS, build_model


@pytest.fixture(scope="module")
def networks():
    """Every network we build, untrained, by (architecture, pooling)."""
    return {(architecture, pooling): build_model(pooling, architecture)
            for architecture in ARCHITECTURES for pooling in POOLINGS}


@pytest.fixture(scope="module")
def separate_relus():
    """Conv2D and Dense each followed by their own ReLU layer, and a follower that changes the shape."""
    inputs = keras.Input((28, 28, 1))
    x = layers.Conv2D(4, 3, name="c")(inputs)
    x = layers.ReLU(name="c_relu")(x)
    x = layers.AveragePooling2D(2, name="p")(x)
    x = layers.Flatten(name="flat")(x)
    x = layers.Dense(8, name="d")(x)
    x = layers.Activation("relu", name="d_act")(x)
    x = layers.Dense(6, name="d2")(x)
    x = layers.Activation("relu", name="d2_act")(x)
    return keras.Model(inputs, layers.Dense(10, activation="softmax", name="out")(x))


def test_model_layers_leave_out_the_input_placeholder(networks):
    classic = networks["classic", "avg"]
    names = [layer.name for layer in roles.model_layers(classic)]
    assert names == ["conv1", "conv2", "pool1", "dropout1", "flatten", "dense", "dropout_dense", "softmax"]
    assert roles.layer_type(classic.get_layer("pool1")) == "AveragePooling2D"


def test_every_layer_type_of_our_networks_has_its_role_explained(networks):
    for name, model in networks.items():
        types = {roles.layer_type(layer) for layer in roles.model_layers(model)}
        assert types <= set(roles.LAYER_ROLES), f"{name}: {types - set(roles.LAYER_ROLES)}"
    assert "maximum" in roles.LAYER_ROLES["MaxPooling2D"] and "mean" in roles.LAYER_ROLES["AveragePooling2D"]


def test_our_units_are_one_layer_each(networks):
    studio, classic = networks["studio", "max"], networks["classic", "avg"]
    assert [(s.name, s.type, s.output) for s in roles.spatial_layers(classic)] == [
        ("conv1", "Conv2D", "conv1"), ("conv2", "Conv2D", "conv2"), ("pool1", "AveragePooling2D", "pool1")]
    assert [s.name for s in roles.spatial_layers(studio)] == ["conv1", "conv2", "pool1", "conv3", "conv4",
                                                             "pool2"]
    assert roles.dense_layers(studio) == [roles.ShownLayer("dense", "Dense", "dense")]  # not the softmax
    assert roles.spatial_layers(classic)[0].caption == "conv1 · Conv2D"


def test_a_unit_ends_after_its_followers_of_the_same_shape(separate_relus):
    assert roles.unit_output(separate_relus, "c") == "c_relu"
    assert roles.unit_output(separate_relus, "p") == "p"  # Flatten follows, but it is no follower
    shown = roles.spatial_layers(separate_relus)
    assert [(s.name, s.output) for s in shown] == [("c", "c_relu"), ("p", "p")]
    assert shown[0].caption == "c · Conv2D (after relu)"
    assert roles.dense_layers(separate_relus) == [roles.ShownLayer("d", "Dense", "d_act"),
                                                  roles.ShownLayer("d2", "Dense", "d2_act")]


def test_the_first_pooling_layer_its_kind_and_the_maps_it_pools(networks):
    for (_, pooling), model in networks.items():
        assert roles.pooling_kind(model) == pooling
        assert [layer.name for layer in roles.pooling_layers(model)][0] == "pool1"
        assert roles.pooled_input_name(model) == "conv2"


def test_a_network_without_pooling_has_no_kind_and_no_pooled_input():
    inputs = keras.Input((28, 28, 1))
    flat = layers.Flatten()(layers.Conv2D(2, 3, name="only")(inputs))
    model = keras.Model(inputs, layers.Dense(10)(flat), name="plain")
    assert roles.pooling_layers(model) == [] and roles.pooling_kind(model) is None
    with pytest.raises(ValueError, match="model plain has no pooling layer"):
        roles.pooled_input_name(model)
