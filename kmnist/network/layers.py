"""A built network's layers by role: spatial (conv, pooling), dense, pooling and of what kind."""

from __future__ import annotations

from dataclasses import dataclass

from kmnist.network.architectures import POOLING_LAYERS, pooling_of_layer

# Layers of the same shape that finish a conv/dense "unit" when a model keeps them separate. Our networks
# put the ReLU inside Conv2D and Dense and have no batch normalisation, so for them a unit is one layer.
FOLLOWERS = ("BatchNormalization", "Activation", "ReLU")


SPATIAL = ("Conv2D", *POOLING_LAYERS.values())


LAYER_ROLES = {  # what each layer type does, for the Layer visualizer's architecture table
    "Conv2D": "learnt 3x3 filters → one feature map each, then ReLU (negative responses → 0)",
    POOLING_LAYERS["max"]: "2x2 windows → their maximum (half the size)",
    POOLING_LAYERS["avg"]: "2x2 windows → their mean (half the size)",
    "Dropout": "training only: silences random units; passes everything at inference",
    "Flatten": "maps → one long vector",
    "Dense": "every input connected to every unit (ReLU; softmax in the last one)",
}


def layer_type(layer) -> str:
    return type(layer).__name__


def model_layers(model) -> list:
    """The model's layers in order, without the input placeholder."""
    return [layer for layer in model.layers if layer_type(layer) != "InputLayer"]


def _shape(layer) -> tuple:
    return tuple(layer.output.shape[1:])


def unit_output(model, layer_name: str) -> str:
    """The layer that finishes the unit started by `layer_name`.

    In our networks this is the layer itself (the ReLU is part of Conv2D and Dense). In a model that
    follows a layer with separate FOLLOWERS of the same shape, the maps are read after the last of them.
    """
    layers = model_layers(model)
    names = [layer.name for layer in layers]
    position = names.index(layer_name)
    shape = _shape(layers[position])
    while (position + 1 < len(layers) and layer_type(layers[position + 1]) in FOLLOWERS
           and _shape(layers[position + 1]) == shape):
        position += 1
    return names[position]


@dataclass(frozen=True)
class ShownLayer:
    """A layer to display: its name, type, and the layer whose output shows it (see unit_output)."""

    name: str
    type: str
    output: str

    @property
    def caption(self) -> str:
        after = f" (after {self.output.removeprefix(self.name + '_')})" if self.output != self.name else ""
        return f"{self.name} · {self.type}{after}"


def spatial_layers(model) -> list[ShownLayer]:
    """Every Conv2D and pooling layer, in order, each with the output that shows its feature maps."""
    return [ShownLayer(layer.name, layer_type(layer), unit_output(model, layer.name))
            for layer in model_layers(model) if layer_type(layer) in SPATIAL]


def dense_layers(model) -> list[ShownLayer]:
    """Every Dense layer but the last one (the softmax output), with its activated output."""
    dense = [layer for layer in model_layers(model) if layer_type(layer) == "Dense"]
    return [ShownLayer(layer.name, "Dense", unit_output(model, layer.name)) for layer in dense[:-1]]


def pooling_layers(model) -> list:
    """The model's pooling layers (MaxPooling2D / AveragePooling2D), in order."""
    return [layer for layer in model.layers if pooling_of_layer(layer) is not None]


def pooling_kind(model) -> str | None:
    """'max' or 'avg' from the model's first pooling layer (None without one)."""
    pools = pooling_layers(model)
    return pooling_of_layer(pools[0]) if pools else None


def pooled_input_name(model) -> str:
    """The name of the layer whose output the first pooling layer pools (its feature maps)."""
    pools = pooling_layers(model)
    if not pools:
        raise ValueError(f"model {model.name} has no pooling layer")
    inbound = pools[0].input
    for layer in model.layers:
        if layer.output is inbound:
            return layer.name
    names = [layer.name for layer in model.layers]
    return names[names.index(pools[0].name) - 1]
