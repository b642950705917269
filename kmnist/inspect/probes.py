"""Every layer's output for one image, the architecture table, and a layer's filters."""

from __future__ import annotations

import weakref

import numpy as np

from kmnist.data.pixels import as_batch
from kmnist.inspect.convolution import strongest_inputs
from kmnist.inspect.worked import conv_layer
from kmnist.network.layers import LAYER_ROLES, _shape, layer_type, model_layers
from kmnist.registry.locks import model_lock

# A cached model is shared by every session: its probes are built once and run under its one lock.
_probes: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _probe(model):
    with model_lock(model):
        probe = _probes.get(model)
        if probe is None:
            import keras

            layers = model_layers(model)
            probe = ([layer.name for layer in layers],
                     keras.Model(model.input, [layer.output for layer in layers]))
            _probes[model] = probe
        return probe


def layer_outputs(model, image) -> dict[str, np.ndarray]:
    """{layer name: that layer's output for `image`, batch dimension removed}, in layer order.

    Inference mode: dropout passes everything through.
    """
    names, probe = _probe(model)
    batch = as_batch(image)
    with model_lock(model):
        outputs = probe(batch, training=False)
    if not isinstance(outputs, list | tuple):
        outputs = [outputs]
    return {name: np.asarray(output)[0] for name, output in zip(names, outputs, strict=True)}


def architecture_table(model) -> list[dict]:
    """One row per layer: name, type, output shape (e.g. '14×14×32'), trainable+frozen weights, and what
    a layer of its type does (LAYER_ROLES)."""
    return [{"layer": layer.name, "type": layer_type(layer),
             "output_shape": "×".join(str(d) for d in _shape(layer)),
             "parameters": int(layer.count_params()),
             "what it does": LAYER_ROLES.get(layer_type(layer), "")}
            for layer in model_layers(model)]




def conv_filters(model, layer_name: str, reduce: str = "mean") -> np.ndarray:
    """The kernels of Conv2D `layer_name` as (filters, k, k).

    A kernel sees every input channel; to show it as one picture take the first input channel
    (`reduce="first"`) or the mean over input channels (`"mean"`, the default). For the first
    layer both are the same, since the input has one channel.
    """
    layer = model.get_layer(layer_name)
    if layer_type(layer) != "Conv2D":
        raise ValueError(f"{layer_name} is a {layer_type(layer)}, not a Conv2D layer")
    kernel = np.asarray(layer.get_weights()[0])  # (k, k, in, out)
    if reduce == "first":
        kernel = kernel[:, :, 0, :]
    elif reduce == "mean":
        kernel = kernel.mean(axis=2)
    else:
        raise ValueError(f"reduce must be 'first' or 'mean', not {reduce!r}")
    return np.transpose(kernel, (2, 0, 1))


def filter_views(model, layer_name: str) -> tuple[np.ndarray, np.ndarray]:
    """Each filter of Conv2D `layer_name` as one picture: its weights on the input channel it weighs
    most, as (filters, k, k), and that channel for each filter. A mean over many input channels would
    blur every deep filter into the same pale tile."""
    kernel = conv_layer(model, layer_name).kernel
    channels = strongest_inputs(kernel)[:, 0]
    return np.stack([kernel[:, :, c, f] for f, c in enumerate(channels)]), channels
