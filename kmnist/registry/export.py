"""ONNX twins: a saved Keras model written again as NAME.onnx beside NAME.keras, checked, and recorded."""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from kmnist.network.architectures import INPUT_SHAPE, POOLING_LAYERS
from kmnist.network.layers import spatial_layers
from kmnist.registry.atomic import atomic_write
from kmnist.registry.cards import OnnxOutput, OnnxRecord
from kmnist.registry.errors import ModelError
from kmnist.registry.hashing import content_sha256
from kmnist.registry.store import load_model, models_dir, onnx_path, read_card, write_card

OPSET = 17  # ONNX opset of every twin: run by ONNX Runtime 1.14+ and onnxruntime-web alike


INPUT_NAME = "image"


OUTPUT_NAMES = ("probabilities", "first_conv", "first_pool")  # in this order in every twin


CHECK_IMAGES = 100       # how many test images training and the CLI compare ONNX with Keras on


CHECK_TOLERANCE = 1e-4   # the largest difference a twin may show (float32 noise is far smaller)


@dataclass
class Exported:
    """A twin just written: the card's "onnx" record, seconds it took, and its agreement with Keras."""

    record: OnnxRecord
    seconds: float
    max_difference: dict[str, float]  # output name -> max |ONNX Runtime - Keras| on the check images
    checked_on: int                   # how many images that was


def export_command(model_path: Path) -> str:
    """The command that (re)writes the twin: by name for a model in the models folder, else by path."""
    model_path = Path(model_path)
    in_models = model_path.resolve().parent == models_dir().resolve()
    return f"python -m kmnist export {model_path.stem if in_models else model_path}"


def export_fix(model_path: Path) -> str:
    """The advice a missing or stale twin's message ends with (after ": ")."""
    return f"run `{export_command(model_path)}` to write it"


def twin_layers(model) -> list[str]:
    """The layers whose outputs the twin gives, in OUTPUT_NAMES order: the last layer (softmax), then
    the first conv and first pooling unit (as the Layer visualizer shows them, kmnist.inspect)."""
    shown = spatial_layers(model)
    first_conv = next((layer.output for layer in shown if layer.type == "Conv2D"), None)
    first_pool = next((layer.output for layer in shown if layer.type in POOLING_LAYERS.values()), None)
    if first_conv is None or first_pool is None:
        raise ModelError(f"model {model.name} has no {'Conv2D' if first_conv is None else 'pooling'} "
                         "layer, so its ONNX twin would lack feature maps; pick a KMNIST Studio model")
    return [model.layers[-1].name, first_conv, first_pool]


def twin_model(model):
    """A Keras model around `model` giving OUTPUT_NAMES' tensors, called once (Keras exports only a
    model that has run)."""
    import keras

    _, first_conv, first_pool = twin_layers(model)
    twin = keras.Model(model.input, [model.output, model.get_layer(first_conv).output,
                                     model.get_layer(first_pool).output], name=f"{model.name}_twin")
    twin(np.zeros((1, *INPUT_SHAPE), "float32"))
    return twin


def _name_graph(proto) -> None:
    """Give the exported graph our names: input "image", outputs OUTPUT_NAMES, batch axis "batch", and
    every inner node, tensor and weight a name by position. tf2onnx names them after TensorFlow tensors
    and process-wide counters, so the same model exported twice gave different bytes (and checksums)."""
    graph = proto.graph
    renames = {graph.input[0].name: INPUT_NAME}
    renames |= {output.name: name for output, name in zip(graph.output, OUTPUT_NAMES, strict=True)}
    weights = {weight.name: weight for weight in graph.initializer}
    used = []  # the weights in the order the nodes first use them (tf2onnx's own order varies)
    for index, node in enumerate(graph.node):
        node.name = f"{node.op_type}{index}"
        for name in node.input:
            if name in weights and name not in renames:
                renames[name] = f"weight{len(used)}"
                used.append(weights[name])
        for position, name in enumerate(node.output):
            renames.setdefault(name, f"{node.op_type}{index}:{position}")
    ordered = [*used, *(weight for name, weight in weights.items() if name not in renames)]
    graph.ClearField("initializer")
    graph.initializer.extend(ordered)
    for node in graph.node:
        node.input[:] = [renames.get(name, name) for name in node.input]
        node.output[:] = [renames.get(name, name) for name in node.output]
    for value in (*graph.input, *graph.output, *graph.value_info, *graph.initializer):
        value.name = renames.get(value.name, value.name)
    for value in (*graph.input, *graph.output):
        value.type.tensor_type.shape.dim[0].dim_param = "batch"
    graph.name, graph.doc_string = "kmnist", ""


def _check(path: str, twin, images: np.ndarray) -> dict[str, float]:
    """max |ONNX Runtime - Keras| per output on `images`; raise if any is above CHECK_TOLERANCE."""
    import onnxruntime

    session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
    got = session.run(list(OUTPUT_NAMES), {INPUT_NAME: images})
    expected = twin.predict_on_batch(images)
    differences = {name: float(np.abs(a - np.asarray(b)).max())
                   for name, a, b in zip(OUTPUT_NAMES, got, expected, strict=True)}
    if max(differences.values()) > CHECK_TOLERANCE:
        raise ValueError(f"ONNX Runtime and Keras disagree by up to {max(differences.values()):.2g} "
                         f"(allowed {CHECK_TOLERANCE:g})")
    return differences


def _check_images(images=None) -> np.ndarray:
    """float32 (N, 28, 28, 1) images to compare ONNX with Keras on: `images`, or fixed noise without."""
    if images is None:
        return np.random.default_rng(0).random((CHECK_IMAGES, *INPUT_SHAPE), dtype="float32")
    return np.asarray(images, "float32").reshape(-1, *INPUT_SHAPE)


def write_onnx(model, model_path: Path, check_images=None) -> Exported:
    """Write NAME.onnx for `model` (saved as `model_path`) atomically; return its card record and figures.

    The twin is checked against Keras on `check_images` (default: fixed noise) before it is moved into
    place. Any failure raises ModelError naming the file and the fix; the .keras model is never touched.
    """
    import onnx

    target = onnx_path(model_path)
    images = _check_images(check_images)
    started = time.perf_counter()
    found: dict = {}

    def write(tmp):
        twin = twin_model(model)
        # the twin belongs to these very bytes: a .keras replaced later no longer matches it
        found["keras_sha256"] = content_sha256(Path(model_path).read_bytes())
        with warnings.catch_warnings():  # Keras' tf2onnx patch warns about np.object on numpy 2
            warnings.simplefilter("ignore", FutureWarning)
            twin.export(tmp, format="onnx", opset_version=OPSET, verbose=False)
        proto = onnx.load(tmp)
        _name_graph(proto)
        onnx.checker.check_model(proto)
        onnx.save(proto, tmp)
        found["differences"] = _check(tmp, twin, images)
        named = zip(OUTPUT_NAMES, twin_layers(model), twin.outputs, strict=True)
        found["outputs"] = tuple(OnnxOutput(name, layer, tuple(out.shape)) for name, layer, out in named)
        found["sha256"] = content_sha256(Path(tmp).read_bytes())

    try:
        atomic_write(target, write)
    except ModelError:
        raise
    except Exception as error:
        raise ModelError(f"could not write the ONNX twin {target.name} ({type(error).__name__}: "
                         f"{str(error)[:300]}); the .keras model is unaffected and works without it: "
                         f"try `{export_command(model_path)}` again") from error
    record = OnnxRecord(file=target.name, sha256=found["sha256"], opset=OPSET, outputs=found["outputs"],
                        keras_sha256=found["keras_sha256"])
    return Exported(record, time.perf_counter() - started, found["differences"], len(images))


def export_model(model_path: Path, check_images=None) -> Exported:
    """Write the twin of the model saved at `model_path` and record it in its card (every other field
    is kept). A model without a card has nowhere to record the twin's checksum: ModelError."""
    model_path = Path(model_path)
    model = load_model(model_path)
    card = read_card(model_path)
    if card is None:
        raise ModelError(f"{model_path.name} has no model card, so its ONNX twin's checksum has nowhere "
                         "to be recorded; retrain it with KMNIST Studio (`python -m kmnist train`)")
    exported = write_onnx(model, model_path, check_images)
    write_card(model_path, replace(card, onnx=exported.record))
    return exported
