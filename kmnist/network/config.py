"""A training run's settings: the validated TrainConfig, its bounds, and how to describe or change it."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields, replace

from kmnist.network.architectures import architecture_problem, pooling_problem

OPTIMIZERS = ("adamw", "adam", "adadelta", "sgd")


class ConfigError(ValueError):
    """Hyperparameters that cannot work; the message lists each problem and the allowed range."""


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
        if not isinstance(self.epochs, int) or not 1 <= self.epochs <= 1000:
            found.append(f"epochs must be a whole number from 1 to 1000, not {self.epochs}")
        if not isinstance(self.batch_size, int) or self.batch_size < 1:
            found.append(f"batch size must be a whole number of at least 1, not {self.batch_size}")
        if not (isinstance(self.learning_rate, (int, float)) and 0 < self.learning_rate <= 10
                and math.isfinite(self.learning_rate)):
            found.append(f"learning rate must be above 0 and at most 10, not {self.learning_rate}")
        if not 0 <= self.dropout < 1:
            found.append(f"dropout must be at least 0 and below 1, not {self.dropout}")
        if not 0 <= self.label_smoothing < 1:
            found.append(f"label smoothing must be at least 0 and below 1, not {self.label_smoothing}")
        if not 0 < self.val_fraction < 1:
            found.append(f"validation fraction must lie strictly between 0 and 1, not {self.val_fraction}")
        if not isinstance(self.patience, int) or self.patience < 1:
            found.append(f"early-stopping patience must be a whole number of at least 1, not {self.patience}")
        if self.limit is not None and (not isinstance(self.limit, int) or self.limit < 100):
            found.append(f"training subset must be at least 100 images, not {self.limit}")
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
    return (f"{config.architecture} network, {config.epochs} epochs, batch {config.batch_size}, "
            f"{config.optimizer} at learning rate {config.learning_rate:g}{schedule}, "
            f"dropout {config.dropout:g}, label smoothing {config.label_smoothing:g}, "
            f"augmentation {'on' if config.augment else 'off'}, "
            f"{config.val_fraction:.0%} validation, early-stopping patience {config.patience}, "
            f"seed {config.seed}")


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
