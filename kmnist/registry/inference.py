"""Single-image predictions: ONNX Runtime when the model's ONNX twin is present and valid, Keras otherwise."""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple, Protocol

import numpy as np

from kmnist.data.pixels import as_batch, to_float
from kmnist.network.architectures import INPUT_SHAPE
from kmnist.registry.errors import ModelError
from kmnist.registry.export import INPUT_NAME, OUTPUT_NAMES, export_fix
from kmnist.registry.hashing import content_sha256
from kmnist.registry.locks import model_lock
from kmnist.registry.store import load_model, onnx_path, read_card

ONNX_RUNTIME, KERAS = "ONNX Runtime", "Keras"  # the engines, as the pages and the CLI name them


class OnnxFile(NamedTuple):
    """A verified twin: the file to run or serve, and its sha256 (a cache key for the browser)."""

    path: Path
    sha256: str


class Classifier(Protocol):
    engine: str                   # ONNX_RUNTIME or KERAS
    fallback_reason: str | None   # why Keras answers although ONNX Runtime was asked for; else None

    def probabilities(self, batch) -> np.ndarray: ...


def session_options():
    """ONNX Runtime settings for a small shared server (2 cores): one thread per prediction, so a
    drawing never takes both cores from the pages and training; predictions queue on the model's lock."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3  # errors only
    return options


def _open_twin(model_path: Path):
    """(OnnxFile, ONNX Runtime session) for the model's twin, or ModelError naming the file and the fix."""
    import onnxruntime

    model_path = Path(model_path)
    fix = export_fix(model_path)
    card = read_card(model_path)
    if card is None:
        raise ModelError(f"{model_path.name} has no model card, so its ONNX twin cannot be verified; "
                         "retrain it with KMNIST Studio")
    record = card.onnx
    if record is None:
        raise ModelError(f"{model_path.stem} has no ONNX twin yet (its card records none): {fix}")
    if record.error is not None:
        raise ModelError(f"{model_path.stem}'s ONNX twin was not written ({record.error}): {fix}")
    path = onnx_path(model_path)
    if record.file != path.name:
        raise ModelError(f"the card of {model_path.stem} records the twin {record.file}, not {path.name} "
                         f"(was it copied from another model?): {fix}")
    if not path.is_file():
        raise ModelError(f"{path.name} is missing (the card of {model_path.stem} records it): {fix}")
    if not model_path.is_file():
        raise ModelError(f"{model_path.name} is missing, so its ONNX twin {path.name} is not used; "
                         "retrain the model or pick another")
    if content_sha256(model_path.read_bytes()) != record.keras_sha256:
        raise ModelError(f"{path.name} was made from another {model_path.name} (the model file changed "
                         f"since): {fix}")
    content = path.read_bytes()  # hashed and loaded from the same bytes: no file swap in between
    sha256 = content_sha256(content)
    if sha256 != record.sha256:
        raise ModelError(f"{path.name} does not match the card of {model_path.stem} (sha256 {sha256[:12]}…, "
                         f"card {record.sha256[:12]}…): it was changed or belongs to another model; {fix}")
    try:
        session = onnxruntime.InferenceSession(content, session_options(), providers=["CPUExecutionProvider"])
    except Exception as error:
        raise ModelError(f"{path.name} is corrupt: ONNX Runtime cannot load it ({str(error)[:200]}); "
                         f"{fix}") from error
    inputs = [node.name for node in session.get_inputs()]
    outputs = tuple(node.name for node in session.get_outputs())
    if inputs != [INPUT_NAME] or outputs[:len(OUTPUT_NAMES)] != OUTPUT_NAMES:
        raise ModelError(f"{path.name} takes {inputs} and gives {list(outputs)}, not the twin's "
                         f"[{INPUT_NAME!r}] and {list(OUTPUT_NAMES)}; {fix}")
    return OnnxFile(path, sha256), session


def verified_onnx(model_path: Path) -> OnnxFile:
    """The model's ONNX twin, checked as described above (e.g. for the browser to fetch and run).

    Raises ModelError when it is missing, corrupt or does not match the card, naming the file and the fix.
    """
    return _open_twin(model_path)[0]


class OnnxClassifier:
    """Probabilities from the model's ONNX twin with ONNX Runtime."""

    engine = ONNX_RUNTIME
    fallback_reason = None

    def __init__(self, session, file: OnnxFile):
        self.session, self.file = session, file
        self.lock = model_lock(session)

    def probabilities(self, batch) -> np.ndarray:
        """(N, 10) class probabilities for float32 (N, 28, 28, 1) images in [0, 1] (or one image)."""
        batch = _as_input(batch)
        with self.lock:
            return self.session.run([OUTPUT_NAMES[0]], {INPUT_NAME: batch})[0]


class KerasClassifier:
    """Probabilities from the Keras model itself; `fallback_reason` says why ONNX Runtime is not used."""

    engine = KERAS

    def __init__(self, model, fallback_reason: str | None = None):
        self.model, self.fallback_reason = model, fallback_reason
        self.lock = model_lock(model)  # the same lock as the Layer visualizer's probes of this model

    def probabilities(self, batch) -> np.ndarray:
        """(N, 10) class probabilities for float32 (N, 28, 28, 1) images in [0, 1] (or one image)."""
        batch = _as_input(batch)
        with self.lock:
            # predict_on_batch runs Keras' compiled predict step, far quicker than an eager call
            return np.asarray(self.model.predict_on_batch(batch))


def _as_input(batch) -> np.ndarray:
    """float32 (N, 28, 28, 1) in [0, 1] from such a batch (uint8 or float) or from one image."""
    batch = np.asarray(batch)
    if batch.ndim < 4:
        return as_batch(batch)
    if batch.shape[1:] != INPUT_SHAPE:
        raise ValueError(f"expected images of shape (N, {', '.join(map(str, INPUT_SHAPE))}), "
                         f"got {batch.shape}")
    return to_float(batch)


def onnx_classifier(model_path: Path) -> OnnxClassifier:
    """ONNX Runtime on the model's verified twin; ModelError (naming the file and the fix) without one."""
    file, session = _open_twin(model_path)
    return OnnxClassifier(session, file)


def load_classifier(model_path: Path, model=None) -> OnnxClassifier | KerasClassifier:
    """ONNX Runtime on the model's verified twin; else Keras on `model` (the already loaded Keras model of
    `model_path`, if the caller has it; otherwise it is loaded here), with the reason in fallback_reason."""
    try:
        return onnx_classifier(model_path)
    except ModelError as problem:
        return KerasClassifier(load_model(model_path) if model is None else model, str(problem))


def as_classifier(model_or_classifier) -> Classifier:
    """A classifier as is; a bare Keras model (as tests and scripts may pass) wrapped as a KerasClassifier."""
    if hasattr(model_or_classifier, "probabilities"):
        return model_or_classifier
    return KerasClassifier(model_or_classifier)
