"""Train a KMNIST CNN: named recipes; a validated config in, best model, ONNX twin, card, test metrics out."""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path

from kmnist.data import KMNISTData
from kmnist.model import architecture_problem, pooling_problem

OPTIMIZERS = ("adamw", "adam", "adadelta", "sgd")
STOPPED_EMPTY = "stopped-empty"  # a TrainResult status: stopped before the first epoch ended, nothing saved


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


# -- named recipes: the one place that says what "studio" and "classic" training mean -------------------
RECIPES = {
    # Our default: one-cycle AdamW, label smoothing and augmentation on the studio network.
    "studio": TrainConfig(),
    # The Keras simple CNN exactly as the KMNIST benchmarks train it: Adadelta at 1.0, no augmentation.
    "classic": TrainConfig(architecture="classic", epochs=25, batch_size=128, learning_rate=1.0,
                           optimizer="adadelta", dropout=0.25, label_smoothing=0.0, augment=False,
                           patience=25),
}
DEFAULT_RECIPE = "studio"
# The Training page starts from a quick run of a recipe: fewer epochs on a subset, smaller batches, and a
# patience that fits in its epochs (a recipe's own patience would outlast the run: it could never stop early).
QUICK_RUN = {"epochs": 8, "limit": 7000, "batch_size": 128, "patience": 3}  # ~95 % in ~20 s on 2 CPU cores


# The settings a person may change on top of a recipe (the Training page's form; pooling and the subset
# size have widgets of their own).
SETTINGS = ("architecture", "epochs", "batch_size", "learning_rate", "optimizer", "dropout",
            "label_smoothing", "augment", "val_fraction", "patience", "seed")


def quick_run_settings(name: str, train_size: int) -> dict:
    """The Training page's starting values for recipe `name`: its SETTINGS as a QUICK_RUN, and the
    subset size ("limit") that run trains on, at most `train_size`."""
    config = recipe(name, **QUICK_RUN)
    return {field: getattr(config, field) for field in SETTINGS} | {
        "limit": min(config.limit or train_size, train_size)}


def recipe(name: str, **overrides) -> TrainConfig:
    """The config of recipe `name` with `overrides` (any TrainConfig field) applied."""
    if name not in RECIPES:
        raise ConfigError(f"recipe must be one of {', '.join(RECIPES)}, not {name!r}")
    return replace(RECIPES[name], **overrides)


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


@dataclass
class TrainResult:
    status: str  # a card status (kmnist.cards) of the saved model, or STOPPED_EMPTY: nothing was saved
    message: str
    history: list[dict] = field(default_factory=list)
    model_path: Path | None = None
    card: dict | None = None
    model: object | None = None

    @property
    def test(self) -> dict | None:
        return (self.card or {}).get("test")


def choose_strategy():
    """MirroredStrategy when several GPUs are visible, else the default (CPU or one GPU)."""
    import tensorflow as tf

    if len(tf.config.list_logical_devices("GPU")) > 1:
        return tf.distribute.MirroredStrategy()
    return tf.distribute.get_strategy()


def make_optimizer(config: TrainConfig, total_steps: int):
    import keras

    if config.optimizer == "adadelta":
        return keras.optimizers.Adadelta(learning_rate=config.learning_rate)
    # One cycle: warm up from a tenth of the rate over the first fifth of the run, then follow a
    # cosine down to a hundredth of it.
    warmup = max(1, total_steps // 5)
    schedule = keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=config.learning_rate / 10, decay_steps=max(1, total_steps - warmup),
        alpha=0.01, warmup_target=config.learning_rate, warmup_steps=warmup)
    if config.optimizer == "adamw":
        return keras.optimizers.AdamW(learning_rate=schedule, weight_decay=1e-4)
    if config.optimizer == "adam":
        return keras.optimizers.Adam(learning_rate=schedule)
    return keras.optimizers.SGD(learning_rate=schedule, momentum=0.9, nesterov=True)


def train(config: TrainConfig, data: KMNISTData, out_path: str | Path, listeners=(),
          stop_event=None, overwrite: bool = False) -> TrainResult:
    """Train, keep the best epoch (val loss) at `out_path` with its card, evaluate it on the test set,
    and write its ONNX twin (kmnist.export) beside it.

    The best checkpoint is written atomically with a card whose status is "training" while the run
    goes on, so a crash or restart leaves a usable model whose card says the run was interrupted.
    """
    import keras

    from kmnist import cards
    from kmnist.callbacks import BestCheckpoint, StopOnEvent, StreamingCallback
    from kmnist.export import CHECK_IMAGES, write_onnx
    from kmnist.images import to_model_input
    from kmnist.metrics import evaluate
    from kmnist.model import build_model, compile_model
    from kmnist.pipeline import make_dataset, stratified_subset, train_val_split
    from kmnist.store import ModelError, library_versions, load_model, now, save_model, write_card

    config.validate(len(data.y_train))
    out_path = Path(out_path)
    if out_path.suffix != ".keras":
        raise ConfigError(f"the output must be a .keras file, not {out_path.name}")
    if out_path.exists() and not overwrite:
        raise ModelError(f"{out_path} already exists; choose another name or delete it first "
                         "(models are never overwritten silently)")
    if not out_path.parent.is_dir():
        raise ModelError(f"folder {out_path.parent} does not exist; create it or choose another")

    keras.utils.set_random_seed(config.seed)
    x, y = stratified_subset(data.x_train, data.y_train, config.limit, config.seed)
    (x_train, y_train), (x_val, y_val) = train_val_split(x, y, config.val_fraction, config.seed)
    train_set = make_dataset(x_train, y_train, config.batch_size, shuffle=True,
                             augment=config.augment, seed=config.seed)
    steps = math.ceil(len(y_train) / config.batch_size)
    strategy = choose_strategy()
    with strategy.scope():
        model = build_model(config.pooling, config.architecture, dropout=config.dropout)
        compile_model(model, make_optimizer(config, steps * config.epochs), config.label_smoothing)

    history: list[dict] = []
    card = {
        "name": out_path.stem, "status": cards.TRAINING, "created": now(),
        "config": asdict(config),
        "data": data.provenance.to_dict() | {
            "used": {"train": len(y_train), "validation": len(y_val), "test": len(data.y_test)}},
        "parameters": int(model.count_params()), "strategy": type(strategy).__name__,
        "versions": library_versions(), "history": history,
    }
    started = time.perf_counter()

    def save_checkpoint(model, epoch, logs):
        card.update(best_epoch=epoch, training_seconds=round(time.perf_counter() - started, 2),
                    validation={k: logs[k] for k in ("val_loss", "val_accuracy", "val_auc")})
        save_model(model, out_path, card)

    streaming = StreamingCallback((to_model_input(x_val), y_val),
                                  [*listeners, lambda r: r["kind"] == "epoch" and history.append(r)],
                                  train_size=len(y_train))
    checkpoint = BestCheckpoint(save_checkpoint)
    stopper = StopOnEvent(stop_event)
    callbacks = [streaming, checkpoint, stopper,
                 keras.callbacks.EarlyStopping(monitor="val_loss", patience=config.patience)]
    try:
        model.fit(train_set, epochs=config.epochs, callbacks=callbacks, verbose=0, shuffle=False)
    except BaseException as error:
        if checkpoint.best_epoch is not None and out_path.exists():
            card.update(status=cards.FAILED, error=f"{type(error).__name__}: {error}", finished=now())
            write_card(out_path, card)
        raise
    seconds = time.perf_counter() - started

    if checkpoint.best_epoch is None:
        return TrainResult(STOPPED_EMPTY, "Stopped during epoch 1, before any epoch finished: "
                           "no model was saved.", history)
    best = load_model(out_path)  # without its optimizer: the final file is a third of a checkpoint
    status = (cards.STOPPED if stopper.stopped else
              cards.EARLY_STOPPED if streaming.epochs_done < config.epochs else cards.COMPLETE)
    card.update(status=status, finished=now(), training_seconds=round(seconds, 2),
                epochs_run=streaming.epochs_done,
                test=evaluate(best, data.x_test, data.y_test))
    save_model(best, out_path)
    # The final model (never a checkpoint: ~0.7 s each) gets its ONNX twin; if that fails, the model stays
    # and its card says why the twin is missing.
    try:
        card["onnx"] = write_onnx(best, out_path, to_model_input(data.x_test[:CHECK_IMAGES])).record
    except ModelError as error:
        card["onnx"] = {"error": str(error)}
    write_card(out_path, card)
    message = (f"{status}: best epoch {checkpoint.best_epoch} of {streaming.epochs_done} kept in "
               f"{out_path} (test accuracy {card['test']['accuracy']:.1%})"
               + ("; its ONNX twin could not be written (its card says why)" if "error" in card["onnx"]
                  else ""))
    return TrainResult(status, message, history, out_path, card, best)
