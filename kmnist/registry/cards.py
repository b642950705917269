"""Model cards: the one schema a card must fit."""

from __future__ import annotations

from dataclasses import fields

from jsonschema import Draft202012Validator

from kmnist.data.classes import NUM_CLASSES
from kmnist.network.architectures import ARCHITECTURES, POOLINGS
from kmnist.network.config import OPTIMIZERS, TrainConfig

# A card's status: "training" while the run goes on (so a crash leaves a card saying so), then how it ended.
TRAINING, COMPLETE, EARLY_STOPPED = "training", "complete", "early-stopped"


STOPPED, FAILED = "stopped", "failed"


STATUSES = (TRAINING, COMPLETE, EARLY_STOPPED, STOPPED, FAILED)


_NUMBER = {"type": "number"}


_COUNT = {"type": "integer", "minimum": 0}


_SHARE = {"type": "number", "minimum": 0, "maximum": 1}


_PER_CLASS = {"type": "array", "items": _NUMBER, "minItems": NUM_CLASSES, "maxItems": NUM_CLASSES}


_SHA256 = {"type": "string", "pattern": "^[0-9a-f]{64}$"}


_JSON_TYPES = {bool: "boolean", int: "integer", float: "number", str: "string"}


def _config_schema() -> dict:
    """The card's "config": each TrainConfig field with its default's JSON type; names from their lists."""
    defaults = TrainConfig()
    properties = {f.name: {"type": _JSON_TYPES[type(getattr(defaults, f.name))]}
                  for f in fields(TrainConfig) if getattr(defaults, f.name) is not None}
    properties |= {"pooling": {"enum": list(POOLINGS)}, "architecture": {"enum": list(ARCHITECTURES)},
                   "optimizer": {"enum": list(OPTIMIZERS)}, "limit": {"type": ["integer", "null"]}}
    properties["learning_rate"] = _NUMBER  # a whole number such as 1 is a rate too
    return {"type": "object", "properties": properties}


# The model's ONNX twin (kmnist.registry.export): its file beside the model (a bare name, never a path), checksum,
# opset, named outputs and the checksum of the .keras it was made from; or, when writing it failed, why
# (the model itself is kept either way).
_ONNX_SCHEMA = {
    "type": "object",
    "properties": {
        "file": {"type": "string", "pattern": r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"},
        "sha256": _SHA256, "keras_sha256": _SHA256,
        "opset": {"type": "integer", "minimum": 1},
        "outputs": {"type": "array", "minItems": 1, "items": {
            "type": "object", "required": ["name"],
            "properties": {"name": {"type": "string"}, "layer": {"type": "string"},
                           "shape": {"type": "array", "items": {"type": ["integer", "null"]}}}}},
        "error": {"type": "string"},
    },
    "oneOf": [{"required": ["file", "sha256", "opset", "outputs", "keras_sha256"],
               "not": {"required": ["error"]}},
              {"required": ["error"], "not": {"required": ["file"]}}],
}


SCHEMA = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "status": {"enum": list(STATUSES)},
        "created": {"type": "string"},
        "finished": {"type": "string"},
        "error": {"type": "string"},
        "config": _config_schema(),
        "data": {
            "type": "object",
            "properties": {
                "name": {"type": "string"}, "official": {"type": "boolean"}, "summary": {"type": "string"},
                "sizes": {"type": "object", "additionalProperties": _COUNT},
                "md5": {"type": "object", "additionalProperties": {"type": "string"}},
                "used": {"type": "object", "additionalProperties": _COUNT},
            },
        },
        "test": {
            "type": "object",
            "properties": {
                "accuracy": _SHARE, "macro_auc": _NUMBER, "loss": _NUMBER, "count": _COUNT,
                "per_class_accuracy": _PER_CLASS, "per_class_auc": _PER_CLASS,
                "confusion": {"type": "array", "minItems": NUM_CLASSES, "maxItems": NUM_CLASSES,
                              "items": {"type": "array", "items": _COUNT,
                                        "minItems": NUM_CLASSES, "maxItems": NUM_CLASSES}},
            },
        },
        "validation": {"type": "object", "additionalProperties": _NUMBER},
        "history": {"type": "array", "items": {"type": "object", "properties": {"epoch": _COUNT},
                                               "additionalProperties": {"type": ["number", "boolean",
                                                                                 "string"]}}},
        "parameters": _COUNT, "best_epoch": _COUNT, "epochs_run": _COUNT, "training_seconds": _NUMBER,
        "strategy": {"type": "string"},
        "versions": {"type": "object", "additionalProperties": {"type": "string"}},
        "onnx": _ONNX_SCHEMA,
    },
}


_VALIDATOR = Draft202012Validator(SCHEMA)


def card_problems(card) -> list[str]:
    """Every way `card` misses the schema, worded with where: e.g. "test.accuracy: 'high' is not of
    type 'number'". Empty for a valid card."""
    found = []
    for error in sorted(_VALIDATOR.iter_errors(card), key=lambda e: list(map(str, e.absolute_path))):
        where = ".".join(str(part) for part in error.absolute_path) or "the card"
        found.append(f"{where}: {error.message}")
    return found
