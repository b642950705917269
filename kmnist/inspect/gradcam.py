"""Grad-CAM: where a conv layer looked for the class it predicts, as a heatmap over the input."""

from __future__ import annotations

import weakref
from dataclasses import dataclass

import numpy as np

from kmnist.data.pixels import as_batch, to_uint8
from kmnist.network.layers import layer_type, model_layers, unit_output
from kmnist.registry.locks import model_lock

_cam_probes: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


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


HEAT = ((0.0, (0, 0, 0)), (0.5, (255, 0, 0)), (1.0, (255, 255, 0)))  # heat 0 → 1: black, red, yellow


def heat_colours(heatmap) -> np.ndarray:
    """The (..., 3) colours, in [0, 1], of heat values in [0, 1]: HEAT, linear between its stops."""
    heat = np.clip(np.asarray(heatmap, "float32"), 0, 1)
    stops = [stop for stop, _ in HEAT]
    return np.stack([np.interp(heat, stops, [rgb[i] / 255 for _, rgb in HEAT]) for i in range(3)], -1)


def overlay(image, heatmap: np.ndarray, strength: float = 0.55) -> np.ndarray:
    """An RGB (28, 28, 3) uint8 picture: the grey input tinted by the heatmap in its HEAT colours."""
    grey = as_batch(image)[0, ..., 0]
    heat = np.clip(np.asarray(heatmap, "float32"), 0, 1)
    colour = heat_colours(heat)
    base = np.repeat(grey[..., None], 3, axis=2) * (1 - strength * heat[..., None])
    return to_uint8(np.clip(base + strength * heat[..., None] * colour, 0, 1))
