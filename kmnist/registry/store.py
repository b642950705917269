"""Trained models on disk: paths and names, saving, cards, loading with checks, listing a folder."""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import re
import threading
from dataclasses import dataclass
from pathlib import Path

from kmnist.data.classes import NUM_CLASSES
from kmnist.network.architectures import INPUT_SHAPE
from kmnist.network.config import ConfigError
from kmnist.registry.atomic import atomic_write
from kmnist.registry.cards import Card, Status, card_problems
from kmnist.registry.errors import ModelError

MODELS_DIR = Path(__file__).resolve().parents[2] / "models"  # the project's models/, beside kmnist/


MODELS_ENV = "KMNIST_MODELS"


MODEL_SUFFIX = ".keras"  # a model NAME is saved as NAME.keras


CARD_SUFFIX = ".card.json"


ONNX_SUFFIX = ".onnx"  # the ONNX twin (kmnist.registry.export) beside NAME.keras


DEFAULT_MODEL = "studio-max"


_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def model_path(name: str, folder: Path | None = None) -> Path:
    """Where the model `name` lies: NAME.keras in `folder` (default: models_dir())."""
    return (Path(folder) if folder else models_dir()) / f"{name}{MODEL_SUFFIX}"


def card_path(model_path: Path) -> Path:
    model_path = Path(model_path)
    return model_path.with_name(model_path.name.removesuffix(MODEL_SUFFIX) + CARD_SUFFIX)


def onnx_path(model_path: Path) -> Path:
    """Where the ONNX twin of `model_path` lies: NAME.onnx beside NAME.keras."""
    model_path = Path(model_path)
    return model_path.with_name(model_path.name.removesuffix(MODEL_SUFFIX) + ONNX_SUFFIX)


def check_name(name: str) -> str:
    """A model name safe as a file name; raise ModelError otherwise."""
    name = name.removesuffix(MODEL_SUFFIX)
    if not _NAME.match(name):
        raise ModelError(f"model name {name!r} is not allowed: use 1-64 letters, digits, '-', '_' "
                         "or '.', starting with a letter or digit")
    return name


def check_new_model(out_path: Path, overwrite: bool = False) -> None:
    """Raise ConfigError or ModelError unless training may write a model at `out_path`: a .keras file
    in an existing folder, never overwritten silently."""
    if out_path.suffix != MODEL_SUFFIX:
        raise ConfigError(f"the output must be a {MODEL_SUFFIX} file, not {out_path.name}")
    if out_path.exists() and not overwrite:
        raise ModelError(f"{out_path} already exists; choose another name or delete it first "
                         "(models are never overwritten silently)")
    if not out_path.parent.is_dir():
        raise ModelError(f"folder {out_path.parent} does not exist; create it or choose another")


def write_card(model_path: Path, card: dict | Card) -> Path:
    """Write `card` (a Card, or the dict training builds as the run goes on) beside the model, atomically."""
    path = card_path(model_path)
    if isinstance(card, Card):
        card = card.to_dict()

    def write(tmp):
        with open(tmp, "w", encoding="utf-8") as handle:
            json.dump(card, handle, indent=2, ensure_ascii=False)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())

    atomic_write(path, write)
    return path


def read_card(model_path: Path) -> Card | None:
    """The model's card (None when it has none), checked against kmnist.registry.cards.SCHEMA.

    Raises ModelError for a card that is not JSON or does not fit the schema, naming each problem.
    """
    path = card_path(model_path)
    if not path.exists():
        return None
    try:
        card = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ModelError(f"model card {path} is unreadable ({error}); delete it or retrain") from error
    if problems := card_problems(card):
        shown = "; ".join(problems[:3]) + (f" (and {len(problems) - 3} more)" if len(problems) > 3 else "")
        raise ModelError(f"model card {path.name} is not a KMNIST Studio card ({shown}); "
                         "delete it or retrain the model")
    return Card.from_dict(card)


def save_model(model, model_path: Path, card: dict | Card | None = None) -> Path:
    """Save `model` as .keras (and its card) atomically: readers never see half a file."""
    model_path = Path(model_path)
    atomic_write(model_path, lambda tmp: model.save(tmp))
    if card is not None:
        write_card(model_path, card)
    return model_path


def library_versions() -> dict:
    import keras
    import numpy
    import tensorflow

    return {"python": platform.python_version(), "tensorflow": tensorflow.__version__,
            "keras": keras.__version__, "numpy": numpy.__version__}


def now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


_load_lock = threading.Lock()  # Keras' loading is not safe to run from several threads at once






def load_model(model_path: Path):
    """Load a .keras file and check it takes (28, 28, 1) images and gives 10 classes."""
    model_path = Path(model_path)
    if not model_path.is_file():  # said before importing Keras (seconds): a wrong path answers at once
        card = card_path(model_path)
        extra = f" (its card {card.name} exists, but the model file is gone)" if card.exists() else ""
        raise ModelError(f"model file {model_path} not found{extra}; retrain it or pick another")
    import keras

    try:
        with _load_lock:
            model = keras.saving.load_model(model_path, compile=False)
    except Exception as error:
        raise ModelError(f"{model_path.name} is corrupt or not a Keras model ({type(error).__name__}: "
                         f"{str(error)[:200]}); delete it and retrain, or pick another") from error
    input_shape = tuple(model.input_shape[1:]) if hasattr(model, "input_shape") else None
    output_shape = tuple(model.output_shape[1:]) if hasattr(model, "output_shape") else None
    if input_shape != INPUT_SHAPE or output_shape != (NUM_CLASSES,):
        raise ModelError(f"{model_path.name} takes {input_shape} and gives {output_shape}, but a "
                         f"KMNIST model takes {INPUT_SHAPE} images and gives {NUM_CLASSES} classes; "
                         "pick a model trained by KMNIST Studio")
    return model


@dataclass
class ModelEntry:
    """A model in a folder: its file, its card (if any) and a problem to show (if any)."""

    name: str
    path: Path
    card: Card | None
    problem: str | None = None

    @property
    def status(self) -> str:
        """The card's status word, or "unknown" without a card (or a status in it)."""
        return self.card.status.value if self.card and self.card.status else "unknown"

    @property
    def usable(self) -> bool:
        return self.path.is_file()

    def summary(self) -> dict:
        """One row for a table of models: name, status, test accuracy, data, problem."""
        data = self.card.data if self.card else None
        trained_on = ("unknown" if data is None else
                      f"{'official' if data.official else 'not official'} copy, "
                      f"{(data.used or {}).get('train', 0):,} train images")
        test = self.card.test if self.card else None
        return {"model": self.name, "status": self.status,
                "test accuracy": test.accuracy if test else None, "trained on": trained_on,
                "problem": self.problem or ""}


def models_dir() -> Path:
    """The models folder: the project's models/, unless KMNIST_MODELS points elsewhere."""
    return Path(os.environ.get(MODELS_ENV) or MODELS_DIR)


def free_name(base: str, folder: Path | None = None, suffixes: tuple[str, ...] = ("",),
              entries: list[ModelEntry] | None = None) -> str:
    """`base`, or `base-2`, `base-3`... the first for which no `name + suffix` is a model (or card) yet.

    With suffixes it names a group of models (kmnist.registry.pairs.free_prefix: a max/avg pair);
    `entries` reuses a listing already made.
    """
    taken = {entry.name for entry in (list_models(folder) if entries is None else entries)}
    name, number = base, 1
    while any(name + suffix in taken for suffix in suffixes):
        number += 1
        name = f"{base}-{number}"
    return name


def list_models(folder: Path | None = None) -> list[ModelEntry]:
    """Every .keras file and every orphan card in `folder` (default: models_dir()), default first."""
    folder = Path(folder) if folder else models_dir()
    if not folder.is_dir():
        return []
    entries = []
    names = {p.name.removesuffix(MODEL_SUFFIX) for p in folder.glob("*" + MODEL_SUFFIX)
             if not p.name.startswith(".")}
    names |= {p.name.removesuffix(CARD_SUFFIX) for p in folder.glob("*" + CARD_SUFFIX)
              if not p.name.startswith(".")}
    for name in sorted(names, key=lambda n: (n != DEFAULT_MODEL, n)):
        path = model_path(name, folder)
        try:
            card, problem = read_card(path), None
        except ModelError as error:
            card, problem = None, str(error)
        if not path.exists():
            problem = (f"card {name}{CARD_SUFFIX} has no model file {path.name}: the model was "
                       "deleted or never finished saving")
        elif card is None and problem is None:
            problem = "no model card: what data trained it and how well it does are unknown"
        elif card and card.status == Status.TRAINING:
            best = "?" if card.best_epoch is None else card.best_epoch
            problem = ("its card says training never finished (the run was interrupted): this is "
                       f"the best checkpoint, from epoch {best}")
        entries.append(ModelEntry(name, path, card, problem))
    return entries
