"""Trained models on disk: atomic saving, cards, loading with checks, listing a folder, pairing twins."""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import re
import tempfile
import threading
import weakref
from dataclasses import dataclass
from pathlib import Path

from kmnist.cards import TRAINING, card_problems
from kmnist.classes import NUM_CLASSES
from kmnist.model import INPUT_SHAPE, POOLINGS

MODELS_DIR = Path(__file__).resolve().parent.parent / "models"
MODELS_ENV = "KMNIST_MODELS"
CARD_SUFFIX = ".card.json"
ONNX_SUFFIX = ".onnx"  # the ONNX twin (kmnist.export) beside NAME.keras
DEFAULT_MODEL = "studio-max"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class ModelError(Exception):
    """A model problem, worded for the user: which file, what is wrong, how to fix it."""


def card_path(model_path: Path) -> Path:
    model_path = Path(model_path)
    return model_path.with_name(model_path.name.removesuffix(".keras") + CARD_SUFFIX)


def onnx_path(model_path: Path) -> Path:
    """Where the ONNX twin of `model_path` lies: NAME.onnx beside NAME.keras."""
    model_path = Path(model_path)
    return model_path.with_name(model_path.name.removesuffix(".keras") + ONNX_SUFFIX)


def check_name(name: str) -> str:
    """A model name safe as a file name; raise ModelError otherwise."""
    name = name.removesuffix(".keras")
    if not _NAME.match(name):
        raise ModelError(f"model name {name!r} is not allowed: use 1-64 letters, digits, '-', '_' "
                         "or '.', starting with a letter or digit")
    return name


_UMASK = os.umask(0)
os.umask(_UMASK)


def atomic_write(target: Path, write) -> None:
    """Write via `write(tmp_path)` to a temporary file beside `target`, then rename it into place.

    On any failure (disk full, no permission) the temporary file is removed and the previous
    `target`, if any, is left untouched.
    """
    target = Path(target)
    try:
        descriptor, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp" + target.suffix,
                                           dir=target.parent)
    except OSError as error:
        raise ModelError(f"cannot write to {target.parent} ({error.strerror}); make the folder "
                         "writable or choose another one") from error
    os.close(descriptor)
    try:
        write(tmp)
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600 files; saved models are for everyone
        os.replace(tmp, target)
    except BaseException as error:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(error, OSError):
            raise ModelError(f"could not save {target} ({error.strerror or error}); the previous "
                             "file, if any, is unchanged: free some disk space or check "
                             "permissions, then save again") from error
        raise


def write_card(model_path: Path, card: dict) -> Path:
    path = card_path(model_path)

    def write(tmp):
        with open(tmp, "w", encoding="utf-8") as handle:
            json.dump(card, handle, indent=2, ensure_ascii=False)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())

    atomic_write(path, write)
    return path


def read_card(model_path: Path) -> dict | None:
    """The model's card (None when it has none), checked against kmnist.cards.SCHEMA.

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
    return card


def save_model(model, model_path: Path, card: dict | None = None) -> Path:
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
_model_locks: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_model_locks_lock = threading.Lock()  # guards the table only, never held while a model runs or loads


def model_lock(model) -> threading.RLock:
    """The one lock of `model`: a cached model is shared by every session, so every caller that runs
    it (prediction, layer probes, Grad-CAM) holds this lock while it does."""
    with _model_locks_lock:
        return _model_locks.setdefault(model, threading.RLock())


def load_model(model_path: Path):
    """Load a .keras file and check it takes (28, 28, 1) images and gives 10 classes."""
    import keras

    model_path = Path(model_path)
    if not model_path.is_file():
        card = card_path(model_path)
        extra = f" (its card {card.name} exists, but the model file is gone)" if card.exists() else ""
        raise ModelError(f"model file {model_path} not found{extra}; retrain it or pick another")
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
    card: dict | None
    problem: str | None = None

    @property
    def status(self) -> str:
        return (self.card or {}).get("status", "unknown")

    @property
    def usable(self) -> bool:
        return self.path.is_file()

    def summary(self) -> dict:
        """One row for a table of models: name, status, test accuracy, data, problem."""
        card = self.card or {}
        data = card.get("data") or {}
        trained_on = ("unknown" if not data else
                      f"{'official' if data.get('official') else 'not official'} copy, "
                      f"{(data.get('used') or {}).get('train', 0):,} train images")
        return {"model": self.name, "status": self.status,
                "test accuracy": (card.get("test") or {}).get("accuracy"), "trained on": trained_on,
                "problem": self.problem or ""}


def models_dir() -> Path:
    """The models folder: the project's models/, unless KMNIST_MODELS points elsewhere."""
    return Path(os.environ.get(MODELS_ENV) or MODELS_DIR)


def free_name(base: str, folder: Path | None = None, suffixes: tuple[str, ...] = ("",),
              entries: list[ModelEntry] | None = None) -> str:
    """`base`, or `base-2`, `base-3`... the first for which no `name + suffix` is a model (or card) yet.

    With suffixes ("-max", "-avg") it names a pair; `entries` reuses a listing already made.
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
    names = {p.name.removesuffix(".keras") for p in folder.glob("*.keras")
             if not p.name.startswith(".")}
    names |= {p.name.removesuffix(CARD_SUFFIX) for p in folder.glob("*" + CARD_SUFFIX)
              if not p.name.startswith(".")}
    for name in sorted(names, key=lambda n: (n != DEFAULT_MODEL, n)):
        path = folder / f"{name}.keras"
        try:
            card, problem = read_card(path), None
        except ModelError as error:
            card, problem = None, str(error)
        if not path.exists():
            problem = (f"card {name}{CARD_SUFFIX} has no model file {path.name}: the model was "
                       "deleted or never finished saving")
        elif card is None and problem is None:
            problem = "no model card: what data trained it and how well it does are unknown"
        elif card and card.get("status") == TRAINING:
            problem = ("its card says training never finished (the run was interrupted): this is "
                       f"the best checkpoint, from epoch {card.get('best_epoch', '?')}")
        entries.append(ModelEntry(name, path, card, problem))
    return entries


# -- max/avg twins: models whose training differs only in pooling ------------------------------------------
def twin_key(card: dict | None) -> tuple | None:
    """What a max/avg pair must share: the whole training config except pooling (None without a card)."""
    config = (card or {}).get("config")
    if not config or config.get("pooling") not in POOLINGS:
        return None
    return tuple(sorted((k, repr(v)) for k, v in config.items() if k != "pooling"))


def find_pairs(entries: list[ModelEntry], preferred: str = DEFAULT_MODEL.removesuffix("-max")) -> list[tuple]:
    """(max entry, avg entry) pairs of usable models whose configs differ only in pooling.

    The pair named `<preferred>-max` / `<preferred>-avg` (the shipped models) comes first, then the
    others by name.
    """
    groups: dict[tuple, dict[str, list]] = {}
    for entry in entries:
        key = twin_key(entry.card) if entry.usable else None
        if key is not None:
            groups.setdefault(key, {p: [] for p in POOLINGS})[entry.card["config"]["pooling"]].append(entry)
    pairs = []
    for twins in groups.values():
        for max_entry in twins["max"]:
            stem = max_entry.name.removesuffix("max")
            # Prefer the twin with the matching name (pair-max / pair-avg), else the first avg.
            match = next((e for e in twins["avg"] if e.name == stem + "avg"), None)
            match = match or next(iter(twins["avg"]), None)
            if match is not None:
                pairs.append((max_entry, match))
    return sorted(pairs, key=lambda pair: (pair[0].name != f"{preferred}-max", pair[0].name))
