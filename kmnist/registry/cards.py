"""Model cards: the schema a card must fit, and the typed Card that a card which fits it becomes."""

from __future__ import annotations

from dataclasses import dataclass, fields
from enum import Enum, StrEnum

from jsonschema import Draft202012Validator

from kmnist.data.classes import NUM_CLASSES
from kmnist.network.architectures import ARCHITECTURES, POOLINGS
from kmnist.network.config import OPTIMIZERS, TrainConfig


class Status(StrEnum):
    """How a card's run stands: "training" while it goes on (so a crash leaves a card saying so), then how
    it ended."""

    TRAINING = "training"
    COMPLETE = "complete"
    EARLY_STOPPED = "early-stopped"
    STOPPED = "stopped"
    FAILED = "failed"


# -- the schema: every field a card may hold, and its type ---------------------------------------------
_NUMBER = {"type": "number"}


_COUNT = {"type": "integer", "minimum": 0}


_SHARE = {"type": "number", "minimum": 0, "maximum": 1}


_PER_CLASS = {"type": "array", "items": _NUMBER, "minItems": NUM_CLASSES, "maxItems": NUM_CLASSES}


_SHA256 = {"type": "string", "pattern": "^[0-9a-f]{64}$"}


_JSON_TYPES = {bool: "boolean", int: "integer", float: "number", str: "string"}


def _record(properties: dict, **rest) -> dict:
    """An object with exactly these (optional) properties: a card holds no field the Card cannot keep."""
    return {"type": "object", "properties": properties, "additionalProperties": False, **rest}


def _config_schema() -> dict:
    """The card's "config": each TrainConfig field with its default's JSON type; names from their lists."""
    defaults = TrainConfig()
    properties = {f.name: {"type": _JSON_TYPES[type(getattr(defaults, f.name))]}
                  for f in fields(TrainConfig) if getattr(defaults, f.name) is not None}
    properties |= {"pooling": {"enum": list(POOLINGS)}, "architecture": {"enum": list(ARCHITECTURES)},
                   "optimizer": {"enum": list(OPTIMIZERS)}, "limit": {"type": ["integer", "null"]}}
    properties["learning_rate"] = _NUMBER  # a whole number such as 1 is a rate too
    return _record(properties)


# The model's ONNX twin (kmnist.registry.export): its file beside the model (a bare name, never a path),
# checksum, opset, named outputs and the checksum of the .keras it was made from; or, when writing it
# failed, why (the model itself is kept either way).
_ONNX_SCHEMA = _record(
    {
        "file": {"type": "string", "pattern": r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"},
        "sha256": _SHA256, "keras_sha256": _SHA256,
        "opset": {"type": "integer", "minimum": 1},
        "outputs": {"type": "array", "minItems": 1, "items": _record(
            {"name": {"type": "string"}, "layer": {"type": "string"},
             "shape": {"type": "array", "items": {"type": ["integer", "null"]}}}, required=["name"])},
        "error": {"type": "string"},
    },
    oneOf=[{"required": ["file", "sha256", "opset", "outputs", "keras_sha256"],
            "not": {"required": ["error"]}},
           {"required": ["error"], "not": {"required": ["file"]}}],
)


# A set of official images (kmnist.data.origins.encode): which official split, how many, the lowest and
# highest position, and a bitmap of the whole split.
_OFFICIAL_IMAGES = _record({"split": {"enum": ["train", "test"]}, "count": _COUNT, "first": _COUNT,
                            "last": _COUNT, "bitmap": {"type": "string", "pattern": "^[A-Za-z0-9+/=]+$"}},
                           required=["split", "count", "bitmap"])


SCHEMA = _record({
    "name": {"type": "string"},
    "status": {"enum": [status.value for status in Status]},
    "created": {"type": "string"},
    "config": _config_schema(),
    "data": _record({
        "name": {"type": "string"}, "official": {"type": "boolean"},
        "sizes": {"type": "object", "additionalProperties": _COUNT},
        "md5": {"type": "object", "additionalProperties": {"type": "string"}},
        "summary": {"type": "string"},
        "used": {"type": "object", "additionalProperties": _COUNT},
        "images": _record({seen: _OFFICIAL_IMAGES for seen in ("trained", "validated")},
                          required=["trained", "validated"]),
    }),
    "parameters": _COUNT,
    "strategy": {"type": "string"},
    "versions": {"type": "object", "additionalProperties": {"type": "string"}},
    "history": {"type": "array", "items": {
        "type": "object", "properties": {"epoch": _COUNT},
        "additionalProperties": {"type": ["number", "boolean", "string"]}}},
    "best_epoch": _COUNT, "training_seconds": _NUMBER,
    "validation": {"type": "object", "additionalProperties": _NUMBER},
    "error": {"type": "string"},
    "finished": {"type": "string"},
    "epochs_run": _COUNT,
    "test": _record({
        "loss": _NUMBER, "accuracy": _SHARE, "macro_auc": _NUMBER,
        "per_class_accuracy": _PER_CLASS, "per_class_auc": _PER_CLASS,
        "confusion": {"type": "array", "minItems": NUM_CLASSES, "maxItems": NUM_CLASSES,
                      "items": {"type": "array", "items": _COUNT, "minItems": NUM_CLASSES,
                                "maxItems": NUM_CLASSES}},
        "count": _COUNT,
    }),
    "onnx": _ONNX_SCHEMA,
})


_VALIDATOR = Draft202012Validator(SCHEMA)


def card_problems(card) -> list[str]:
    """Every way `card` misses the schema, worded with where: e.g. "test.accuracy: 'high' is not of
    type 'number'". Empty for a valid card."""
    found = []
    for error in sorted(_VALIDATOR.iter_errors(card), key=lambda e: list(map(str, e.absolute_path))):
        where = ".".join(str(part) for part in error.absolute_path) or "the card"
        found.append(f"{where}: {error.message}")
    return found


# -- the typed card: one attribute per field; None where the card does not record it -------------------
def _frozen(value):
    """A JSON value with its lists as tuples (the same numbers and strings, so writing it back is exact)."""
    if isinstance(value, list):
        return tuple(_frozen(item) for item in value)
    if isinstance(value, dict):
        return {key: _frozen(item) for key, item in value.items()}
    return value


def _plain(value):
    """The JSON value of an attribute: tuples as lists, parts as dicts, a Status as its word."""
    if isinstance(value, _Part):
        return value.to_dict()
    if isinstance(value, tuple):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    return value.value if isinstance(value, Enum) else value


@dataclass(frozen=True)
class _Part:
    """A part of a card: read from its dict, written back to the same dict (what is None is left out)."""

    @classmethod
    def from_dict(cls, values: dict):
        return cls(**{key: _frozen(value) for key, value in values.items()})

    def to_dict(self) -> dict:
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        return {name: _plain(value) for name, value in values.items() if value is not None}


@dataclass(frozen=True)
class DataRecord(_Part):
    """What a card records of the data its model was trained on (kmnist.data.files.Provenance, no path)."""

    name: str | None = None                # the copy's folder name, e.g. "kmnist-offline"
    official: bool | None = None           # whether its checksums are those of the official release
    sizes: dict[str, int] | None = None    # images per split in the copy
    md5: dict[str, str] | None = None      # file name -> checksum
    summary: str | None = None             # the provenance in one sentence
    used: dict[str, int] | None = None     # images the run used: train, validation, test
    images: dict[str, dict] | None = None  # the official images it trained and validated on (origins.encode)


@dataclass(frozen=True)
class TestMetrics(_Part):
    """The kept model's scores on the held-out test set (kmnist.evaluation.metrics)."""

    __test__ = False  # not a pytest test class

    loss: float | None = None
    accuracy: float | None = None
    macro_auc: float | None = None
    per_class_accuracy: tuple[float, ...] | None = None  # NaN for a class without test images
    per_class_auc: tuple[float, ...] | None = None
    confusion: tuple[tuple[int, ...], ...] | None = None  # rows: true class, columns: predicted
    count: int | None = None


@dataclass(frozen=True)
class OnnxOutput(_Part):
    """One output of the twin: its name, the Keras layer it comes from, its shape (None: any size)."""

    name: str
    layer: str | None = None
    shape: tuple[int | None, ...] | None = None


@dataclass(frozen=True)
class OnnxRecord(_Part):
    """The model's ONNX twin as its card records it (see _ONNX_SCHEMA): its file and checksums, or why
    it was not written (`error`)."""

    file: str | None = None
    sha256: str | None = None
    opset: int | None = None
    outputs: tuple[OnnxOutput, ...] | None = None
    keras_sha256: str | None = None
    error: str | None = None

    @classmethod
    def from_dict(cls, values: dict) -> OnnxRecord:
        outputs = values.get("outputs")
        return cls(**{**values, "outputs": None if outputs is None else
                      tuple(OnnxOutput.from_dict(output) for output in outputs)})


@dataclass(frozen=True)
class Card(_Part):
    """A model card, typed: how the model was trained, on what data, how well it does, how its run ended.

    Attributes are in the order training writes them; None where the card does not record a field (e.g.
    `test` while the run is going on). `config` is a TrainConfig: a card from before one of its fields
    existed gets that field's default, and `config_fields` names the fields the card really records.
    """

    name: str | None = None
    status: Status | None = None
    created: str | None = None
    config: TrainConfig | None = None
    data: DataRecord | None = None
    parameters: int | None = None
    strategy: str | None = None                  # the tf.distribute strategy it trained under
    versions: dict[str, str] | None = None       # python, tensorflow, keras, numpy
    history: tuple[dict, ...] | None = None      # one record per epoch (kmnist.training.callbacks)
    best_epoch: int | None = None                # the epoch kept
    training_seconds: float | None = None
    validation: dict[str, float] | None = None   # val_loss, val_accuracy, val_auc of the epoch kept
    error: str | None = None                     # why the run failed
    finished: str | None = None
    epochs_run: int | None = None
    test: TestMetrics | None = None
    onnx: OnnxRecord | None = None
    config_fields: tuple[str, ...] = ()

    @classmethod
    def from_dict(cls, values: dict) -> Card:
        """The Card of `values`, a card that fits SCHEMA (store.read_card checks it with card_problems)."""
        parts = {key: _frozen(value) for key, value in values.items()}
        if "status" in values:
            parts["status"] = Status(values["status"])
        if "config" in values:
            parts["config"] = TrainConfig.from_dict(values["config"])
            parts["config_fields"] = tuple(values["config"])
        for key, part in (("data", DataRecord), ("test", TestMetrics), ("onnx", OnnxRecord)):
            if key in values:
                parts[key] = part.from_dict(values[key])
        return cls(**parts)

    def to_dict(self) -> dict:
        """The card as JSON values: Card.from_dict(card).to_dict() == card."""
        values = super().to_dict()
        del values["config_fields"]
        if self.config is not None:
            values["config"] = {name: getattr(self.config, name) for name in self.config_fields}
        return values

    def headline(self, name: str | None = None) -> str:
        """The model in one line: "studio-max · test accuracy 97.50% · macro AUC 0.9990 · complete".

        `name` is the model's file name, which wins over the card's own (a card may have been copied).
        """
        test = self.test or TestMetrics()
        parts = [name or self.name or "unnamed model",
                 "not tested" if test.accuracy is None else f"test accuracy {test.accuracy:.2%}"]
        if test.macro_auc is not None:
            parts.append(f"macro AUC {test.macro_auc:.4f}")
        if self.status is not None:
            parts.append(self.status.value)
        return " · ".join(parts)
