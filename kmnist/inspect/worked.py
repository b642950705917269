"""One conv output value worked out on the layer's real input: the layer, its input, the arithmetic."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kmnist.data.pixels import as_batch
from kmnist.inspect.convolution import Worked, work_out
from kmnist.network.layers import layer_type, model_layers

# Layers that pass their input on unchanged when a trained model predicts (the overview shows none of them).
INFERENCE_IDENTITY = ("Dropout", "SpatialDropout2D", "GaussianDropout", "AlphaDropout", "GaussianNoise")


@dataclass(frozen=True)
class ConvLayer:
    """What the arithmetic of a Conv2D layer needs: its weights, how it slides, and what it reads."""

    name: str
    input: str | None    # the shown layer whose output it reads (past any dropout); None for the image
    kernel: np.ndarray   # (k, k, input channels, filters)
    bias: np.ndarray     # (filters,)
    strides: tuple[int, int]
    padding: str         # 'valid' or 'same'
    activation: str      # e.g. 'relu'


def conv_layer(model, layer_name: str) -> ConvLayer:
    """The Conv2D layer `layer_name` of `model`, read for the arithmetic (clear error for other layers)."""
    layer = model.get_layer(layer_name)
    if layer_type(layer) != "Conv2D":
        raise ValueError(f"{layer_name} is a {layer_type(layer)}, not a Conv2D layer")
    config = layer.get_config()
    if tuple(config.get("dilation_rate", (1, 1))) != (1, 1) or config.get("groups", 1) != 1:
        raise ValueError(f"{layer_name}: only plain convolutions (no dilation or groups) are worked out")
    weights = layer.get_weights()
    bias = weights[1] if len(weights) > 1 else np.zeros(weights[0].shape[-1], "float32")
    return ConvLayer(layer_name, _shown_source(model, layer), np.asarray(weights[0]), np.asarray(bias),
                     tuple(layer.strides), layer.padding,
                     getattr(layer.activation, "__name__", str(layer.activation)))


def _shown_source(model, layer) -> str | None:
    """The layer whose output `layer` reads, past any INFERENCE_IDENTITY between them (so its output is
    what `layer` reads at inference); None for the image."""
    made_by = {id(other.output): other for other in model_layers(model)}
    source = made_by.get(id(layer.input))
    while source is not None and layer_type(source) in INFERENCE_IDENTITY:
        source = made_by.get(id(source.input))
    return None if source is None else source.name


def conv_input(layer: ConvLayer, outputs: dict[str, np.ndarray], image) -> np.ndarray:
    """The (H, W, C) input that `layer` convolves: the image, or its source layer's output in `outputs`."""
    return as_batch(image)[0] if layer.input is None else outputs[layer.input]


def worked_convolution(layer: ConvLayer, outputs: dict[str, np.ndarray], image, row: int, col: int,
                       filter: int) -> Worked:
    """Output (row, col, filter) of `layer` for `image`, one multiplication at a time
    (kmnist.inspect.convolution); `outputs` are layer_outputs for the same image."""
    return work_out(conv_input(layer, outputs, image), layer.kernel, layer.bias, row, col, filter,
                    layer.strides, layer.padding, layer.activation)
