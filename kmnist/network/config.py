"""A training run's settings: the validated TrainConfig, its bounds, and how to describe or change it."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields, replace

from kmnist.network.architectures import POOLING_WORDS, architecture_problem, pooling_problem

OPTIMIZERS = ("adamw", "adam", "adadelta", "sgd")


class ConfigError(ValueError):
    """Hyperparameters that cannot work; the message lists each problem and the allowed range."""


@dataclass(frozen=True)
class Bound:
    """The values one numeric setting allows: from `low` to `high` (None: no limit), an end left out when
    open. TrainConfig checks them and the pages' widgets offer them (a widget's range includes an open end;
    the check then names it)."""

    low: int | float
    high: int | float | None = None
    low_open: bool = False
    high_open: bool = False
    whole: bool = False  # a whole number (int)
    unit: str = ""       # written after the numbers, e.g. " images"

    def allows(self, value) -> bool:
        if self.whole and not isinstance(value, int):
            return False
        if not isinstance(value, (int, float)) or not math.isfinite(value):
            return False
        above = value > self.low if self.low_open else value >= self.low
        below = self.high is None or (value < self.high if self.high_open else value <= self.high)
        return above and below

    def words(self) -> str:
        """The range in words: "a whole number from 1 to 1000", "above 0 and at most 10"..."""
        low, high = (None if v is None else f"{v:g}" if isinstance(v, float) else str(v)
                     for v in (self.low, self.high))
        if high is None:
            rule = f"{'above' if self.low_open else 'at least'} {low}{self.unit}"
        elif self.low_open and self.high_open:
            rule = f"strictly between {low} and {high}{self.unit}"
        elif not (self.low_open or self.high_open):
            rule = f"from {low} to {high}{self.unit}"
        else:
            rule = (f"{'above' if self.low_open else 'at least'} {low} and "
                    f"{'below' if self.high_open else 'at most'} {high}{self.unit}")
        if self.whole:
            return f"a whole number {'of ' if high is None and not self.low_open else ''}{rule}"
        return rule


# The allowed range of each numeric TrainConfig field, stated once (pooling, architecture and optimizer
# come from their lists; limit may also be None: all the images).
BOUNDS = {
    "epochs": Bound(1, 1000, whole=True),
    "batch_size": Bound(1, whole=True),
    "learning_rate": Bound(0.0, 10.0, low_open=True),
    "dropout": Bound(0.0, 1.0, high_open=True),
    "label_smoothing": Bound(0.0, 1.0, high_open=True),
    "stroke_thickness": Bound(0.0, 1.0),
    "val_fraction": Bound(0.0, 1.0, low_open=True, high_open=True),
    "patience": Bound(1, whole=True),
    "limit": Bound(100, whole=True, unit=" images"),
    "seed": Bound(0, 2**31 - 1, whole=True),
}


# How a problem names each field.
_NOUNS = {"epochs": "epochs", "batch_size": "batch size", "learning_rate": "learning rate",
          "dropout": "dropout", "label_smoothing": "label smoothing",
          "stroke_thickness": "stroke thickness", "val_fraction": "validation fraction",
          "patience": "early-stopping patience", "limit": "training subset", "seed": "seed"}


@dataclass
class TrainConfig:
    """Everything that decides a training run; recorded verbatim in the model card."""

    pooling: str = "max"
    architecture: str = "studio"
    epochs: int = 30
    batch_size: int = 128
    learning_rate: float = 3e-3
    optimizer: str = "adamw"
    dropout: float = 0.25
    label_smoothing: float = 0.1
    augment: bool = True
    stroke_thickness: float = 0.0  # augmentation's thicker/thinner strokes (pipeline.augmenter); 0: off
    val_fraction: float = 0.2
    patience: int = 10
    limit: int | None = None
    seed: int = 42

    @classmethod
    def from_dict(cls, values: dict) -> TrainConfig:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in known})

    def problems(self, train_size: int | None = None) -> list[str]:
        """Every reason this config cannot train, worded with the allowed range."""
        found = []
        found += [problem for problem in (pooling_problem(self.pooling),
                                          architecture_problem(self.architecture)) if problem]
        if self.optimizer not in OPTIMIZERS:
            found.append(f"optimizer must be one of {', '.join(OPTIMIZERS)}, not {self.optimizer!r}")
        for name, bound in BOUNDS.items():
            value = getattr(self, name)
            if not (name == "limit" and value is None) and not bound.allows(value):
                found.append(f"{_NOUNS[name]} must be {bound.words()}, not {value}")
        if train_size is not None and not found:
            used = min(train_size, self.limit or train_size)
            n_val = math.ceil(used * self.val_fraction)
            n_train = used - n_val
            if n_val < 10 or n_train < 10:
                found.append(f"validation fraction {self.val_fraction} of {used} images leaves "
                             f"{n_train} to train and {n_val} to validate; each needs at least 10 "
                             "(one per class)")
            elif self.batch_size > n_train:
                found.append(f"batch size {self.batch_size} is larger than the {n_train} training "
                             f"images; use at most {n_train}")
        return found

    def validate(self, train_size: int | None = None) -> TrainConfig:
        found = self.problems(train_size)
        if found:
            raise ConfigError("; ".join(found))
        return self


# The settings a person may change on top of a recipe (the Training page's form; pooling and the subset
# size have widgets of their own).
SETTINGS = ("architecture", "epochs", "batch_size", "learning_rate", "optimizer", "dropout",
            "label_smoothing", "augment", "val_fraction", "patience", "seed")


def with_settings(base: TrainConfig, **settings) -> TrainConfig:
    """`base` with `settings` from a form, each brought to the type of its field (a number input gives
    2.0 where an epoch count must be 2)."""
    return replace(base, **{name: type(getattr(base, name))(value) if getattr(base, name) is not None
                            else value for name, value in settings.items()})


def describe(config: TrainConfig) -> str:
    """What a config sets, in one line for people (the Training page shows it for each recipe)."""
    schedule = "" if config.optimizer == "adadelta" else " (one-cycle schedule)"
    strokes = (f" with strokes up to {config.stroke_thickness:g} thicker or thinner"
               if config.augment and config.stroke_thickness else "")
    return (f"{config.architecture} network, {config.epochs} epochs, batch {config.batch_size}, "
            f"{config.optimizer} at learning rate {config.learning_rate:g}{schedule}, "
            f"dropout {config.dropout:g}, label smoothing {config.label_smoothing:g}, "
            f"augmentation {'on' if config.augment else 'off'}{strokes}, "
            f"{config.val_fraction:.0%} validation, early-stopping patience {config.patience}, "
            f"seed {config.seed}")


def describe_run(config: TrainConfig) -> str:
    """A run's settings in one line: its pooling and training images, then describe() (seed last)."""
    images = "all training images" if config.limit is None else f"{config.limit:,} training images"
    return f"{POOLING_WORDS[config.pooling]} pooling on {images}, {describe(config)}"


def validation_note(config: TrainConfig) -> str:
    """Why validation can beat training in a run of `config`, naming only the handicaps it trains with."""
    handicaps = [name for name, used in (("dropout", config.dropout > 0), ("augmentation", config.augment),
                                         ("label smoothing", config.label_smoothing > 0)) if used]
    only_training = ""
    if handicaps:
        named = handicaps[0] if len(handicaps) == 1 else ", ".join(handicaps[:-1]) + " and " + handicaps[-1]
        only_training = (f"{named} {'acts' if len(handicaps) == 1 else 'act'} only in training, and ")
    return (f"Why validation can beat training here: {only_training}the training figures are averaged "
            "over the epoch while the weights still improve, whereas validation measures the weights at "
            "the epoch's end.")


def subset_limit(requested: int, available: int) -> int | None:
    """TrainConfig.limit for "train on `requested` of the `available` images": None means all of them."""
    return None if requested >= available else int(requested)


def differences(config: TrainConfig, base: TrainConfig) -> dict:
    """{field: value} of `config` where it differs from `base` (what a run overrides of its recipe)."""
    theirs = asdict(base)
    return {key: value for key, value in asdict(config).items() if theirs[key] != value}
