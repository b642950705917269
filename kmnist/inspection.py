"""Look inside a CNN: each layer's output for one image, its filters, one conv value worked out on
its real input, and where it looked (Grad-CAM)."""

from __future__ import annotations

import weakref
from dataclasses import dataclass

import numpy as np

from kmnist.convolution import Worked, strongest_inputs, work_out
from kmnist.images import as_batch, to_uint8
from kmnist.model import POOLING_LAYERS, pooling_of_layer
from kmnist.store import model_lock

# A cached model is shared by every session: its probes are built once and run under its one lock.
_probes: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_cam_probes: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

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


# ---------------------------------------------------------------------------------------------
# Every layer's output for one image


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


# ---------------------------------------------------------------------------------------------
# The architecture, and which outputs are worth showing


def architecture_table(model) -> list[dict]:
    """One row per layer: name, type, output shape (e.g. '14×14×32'), trainable+frozen weights, and what
    a layer of its type does (LAYER_ROLES)."""
    return [{"layer": layer.name, "type": layer_type(layer),
             "output_shape": "×".join(str(d) for d in _shape(layer)),
             "parameters": int(layer.count_params()),
             "what it does": LAYER_ROLES.get(layer_type(layer), "")}
            for layer in model_layers(model)]


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


# ---------------------------------------------------------------------------------------------
# Filters and feature-map grids


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


def feature_grid(maps: np.ndarray, columns: int = 8, pad: int = 1, normalize: str = "each",
                 pad_value: float = np.nan) -> np.ndarray:
    """Tile (H, W, C) maps into one (rows*(H+pad)-pad, columns*(W+pad)-pad) image, row by row.

    For conv_filters' (n, k, k) pass `filters.transpose(1, 2, 0)`.

    `normalize="each"` stretches every map to [0, 1] on its own (shows each map's pattern);
    `"all"` uses one scale for all (shows which maps respond most); `"none"` keeps the values.
    Gaps are `pad_value` (NaN: a Plotly heatmap leaves them blank).
    """
    maps = np.asarray(maps, dtype="float32")
    if maps.ndim != 3:
        raise ValueError(f"expected maps of shape (H, W, C), got {maps.shape}")
    height, width, count = maps.shape
    columns = max(1, min(columns, count))
    rows = -(-count // columns)
    if normalize == "each":
        low, high = maps.min(axis=(0, 1)), maps.max(axis=(0, 1))
    elif normalize == "all":
        low, high = np.full(count, maps.min()), np.full(count, maps.max())
    elif normalize == "none":
        low, high = np.zeros(count), np.ones(count)
    else:
        raise ValueError(f"normalize must be 'each', 'all' or 'none', not {normalize!r}")
    span = np.where(high - low > 1e-12, high - low, 1.0)
    scaled = (maps - low) / span
    grid = np.full((rows * (height + pad) - pad, columns * (width + pad) - pad), pad_value, "float32")
    for index in range(count):
        row, column = divmod(index, columns)
        top, left = row * (height + pad), column * (width + pad)
        grid[top:top + height, left:left + width] = scaled[..., index]
    return grid


def grid_channels(shape: tuple[int, int, int], columns: int = 8, pad: int = 1) -> np.ndarray:
    """For a feature_grid of maps of `shape` (H, W, C): each grid pixel's channel, -1 in the gaps."""
    height, width, count = shape
    index = np.arange(count, dtype="float32").reshape(1, 1, count) * np.ones((height, width, 1))
    grid = feature_grid(index, columns, pad, normalize="none", pad_value=-1)
    return grid.astype("int64")


def strongest_maps(maps: np.ndarray, count: int | None = None) -> np.ndarray:
    """The channels of (H, W, C) maps ordered by mean activation, strongest first (the first `count`)."""
    mean = np.asarray(maps, dtype="float64").reshape(-1, np.shape(maps)[-1]).mean(axis=0)
    return np.argsort(-mean, kind="stable")[:count]


def peak_position(feature: np.ndarray) -> tuple[int, int]:
    """(row, col) of the strongest value of one (H, W) map (ties: the first)."""
    row, col = np.unravel_index(int(np.argmax(feature)), np.shape(feature))
    return int(row), int(col)


def map_column(maps: np.ndarray, channels, slots: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The `channels` of (H, W, C) maps stacked top to bottom as one feature_grid (each map stretched to
    its own range), blank tiles below up to `slots`; and the channel under each grid pixel (-1: none)."""
    channels = np.asarray(channels, dtype="int64")
    slots = max(slots or len(channels), len(channels))
    chosen = np.asarray(maps, dtype="float32")[..., channels]
    blank = np.full((*chosen.shape[:2], slots - len(channels)), np.nan, "float32")
    positions = grid_channels((*chosen.shape[:2], slots), columns=1)
    named = np.where((positions >= 0) & (positions < len(channels)),
                     channels[np.clip(positions, 0, max(len(channels) - 1, 0))], -1)
    return feature_grid(np.concatenate([chosen, blank], axis=-1), columns=1), named


def clicked_cell(points: list[dict]) -> tuple[int, int] | None:
    """The two numbers a click on a clickable chart (charts.click_targets) carries in its customdata,
    e.g. (column, map) in the overview or (row, col) of a map; None when nothing is selected."""
    for point in points or ():
        custom = point.get("customdata")
        if custom is not None and len(custom) >= 2:
            return int(custom[0]), int(custom[1])
    return None


def filter_views(model, layer_name: str) -> tuple[np.ndarray, np.ndarray]:
    """Each filter of Conv2D `layer_name` as one picture: its weights on the input channel it weighs
    most, as (filters, k, k), and that channel for each filter. A mean over many input channels would
    blur every deep filter into the same pale tile."""
    kernel = conv_layer(model, layer_name).kernel
    channels = strongest_inputs(kernel)[:, 0]
    return np.stack([kernel[:, :, c, f] for f, c in enumerate(channels)]), channels


# ---------------------------------------------------------------------------------------------
# One conv output value, worked out (kmnist.convolution) on the layer's real input


@dataclass(frozen=True)
class ConvLayer:
    """What the arithmetic of a Conv2D layer needs: its weights, how it slides, and what it reads."""

    name: str
    input: str | None    # the layer whose output it reads; None for the image itself
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
    source = next((other.name for other in model_layers(model) if other.output is layer.input), None)
    return ConvLayer(layer_name, source, np.asarray(weights[0]), np.asarray(bias), tuple(layer.strides),
                     layer.padding, getattr(layer.activation, "__name__", str(layer.activation)))


def conv_input(layer: ConvLayer, outputs: dict[str, np.ndarray], image) -> np.ndarray:
    """The (H, W, C) input that `layer` convolves: the image, or its source layer's output in `outputs`."""
    return as_batch(image)[0] if layer.input is None else outputs[layer.input]


def worked_convolution(layer: ConvLayer, outputs: dict[str, np.ndarray], image, row: int, col: int,
                       filter: int) -> Worked:
    """Output (row, col, filter) of `layer` for `image`, one multiplication at a time (kmnist.convolution);
    `outputs` are layer_outputs for the same image."""
    return work_out(conv_input(layer, outputs, image), layer.kernel, layer.bias, row, col, filter,
                    layer.strides, layer.padding, layer.activation)


# ---------------------------------------------------------------------------------------------
# Grad-CAM: which pixels pushed the score of a class up


def grad_cam_layers(model) -> list[str]:
    """The outputs Grad-CAM can weigh: every Conv2D unit (see unit_output), in order."""
    convs = [layer.name for layer in model_layers(model) if layer_type(layer) == "Conv2D"]
    if not convs:
        raise ValueError(f"model {model.name} has no Conv2D layer")
    return [unit_output(model, name) for name in convs]


def grad_cam_layer(model) -> str:
    """The output Grad-CAM weighs by default: the last Conv2D unit, the one nearest the decision."""
    return grad_cam_layers(model)[-1]


@dataclass
class GradCam:
    heatmap: np.ndarray   # (28, 28) in [0, 1]
    class_index: int      # the class explained
    probability: float    # the model's probability for that class
    layer: str            # the layer whose activations were weighed
    method: str           # "grad-cam", or "saliency" when Grad-CAM had nothing positive to show


def _cam_probe(model, layer: str | None = None):
    """A model giving (the conv activations of `layer`, default the last, class scores before softmax,
    probabilities); one per model and layer."""
    layer = layer or grad_cam_layer(model)
    if layer not in grad_cam_layers(model):
        raise ValueError(f"Grad-CAM weighs a conv layer's output ({', '.join(grad_cam_layers(model))}), "
                         f"not {layer!r}")
    with model_lock(model):
        probes = _cam_probes.setdefault(model, {})
        probe = probes.get(layer)
        if probe is None:
            import keras

            target = model.get_layer(layer)
            last = model_layers(model)[-1]
            # Scores before the softmax: the softmax output saturates when the model is sure.
            head = last.input if _softmax_dense(last) or _softmax_activation(last) else last.output
            probe = (target.name, keras.Model(model.input, [target.output, head, model.output]))
            probes[layer] = probe
        return probe


def _softmax_dense(layer) -> bool:
    return layer_type(layer) == "Dense" and getattr(layer.activation, "__name__", "") == "softmax"


def _softmax_activation(layer) -> bool:
    return (layer_type(layer) in ("Activation", "Softmax")
            and getattr(getattr(layer, "activation", None), "__name__", "softmax") == "softmax")


def _logits(model, head):
    last = model_layers(model)[-1]
    if _softmax_dense(last):
        logits = head @ last.kernel
        return logits + last.bias if last.use_bias else logits
    return head


def grad_cam_details(model, image, class_index: int | None = None, layer: str | None = None) -> GradCam:
    """Grad-CAM (Selvaraju et al., 2017) for `class_index` (default: the predicted class).

    Each channel of the conv activations of `layer` (one of grad_cam_layers; default the last) is
    weighted by the mean gradient of the class score with respect to it; the ReLU of the
    weighted sum, upsampled to 28x28, shows where evidence for the class lies. When that is all
    zero (no positive evidence), the map falls back to a saliency map: |d score / d pixel|.
    """
    import tensorflow as tf

    layer, probe = _cam_probe(model, layer)
    batch = tf.constant(as_batch(image))
    with model_lock(model):
        with tf.GradientTape(persistent=True) as tape:
            tape.watch(batch)
            activations, head, probabilities = probe(batch, training=False)
            logits = _logits(model, head)
            if class_index is None:
                class_index = int(tf.argmax(probabilities[0]))
            score = logits[:, class_index]
        gradients = tape.gradient(score, activations)[0]
        weights = tf.reduce_mean(gradients, axis=(0, 1))
        cam = tf.nn.relu(tf.reduce_sum(activations[0] * weights, axis=-1))
        method = "grad-cam"
        if float(tf.reduce_max(cam)) <= 1e-12:
            cam = tf.abs(tape.gradient(score, batch)[0, ..., 0])
            method = "saliency"
        del tape
    cam = tf.image.resize(cam[..., None], (28, 28), method="bilinear")[..., 0].numpy()
    cam = np.clip(cam, 0, None)
    peak = cam.max()
    heatmap = cam / peak if peak > 0 else np.zeros((28, 28), "float32")
    return GradCam(heatmap.astype("float32"), int(class_index), float(probabilities[0, class_index]),
                   layer, method)


def overlay(image, heatmap: np.ndarray, strength: float = 0.55) -> np.ndarray:
    """An RGB (28, 28, 3) uint8 picture: the grey input with the heatmap in red-yellow on top."""
    grey = as_batch(image)[0, ..., 0]
    heat = np.clip(np.asarray(heatmap, "float32"), 0, 1)
    colour = np.stack([np.clip(2 * heat, 0, 1), np.clip(2 * heat - 1, 0, 1), np.zeros_like(heat)], -1)
    base = np.repeat(grey[..., None], 3, axis=2) * (1 - strength * heat[..., None])
    return to_uint8(np.clip(base + strength * heat[..., None] * colour, 0, 1))


# ---------------------------------------------------------------------------------------------
# Pooling layers: which ones, what kind, and which maps they pool


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
