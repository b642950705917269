"""Named recipes (the one place that says what "studio" and "classic" training mean) and the quick run."""

from __future__ import annotations

from dataclasses import replace

from kmnist.network.config import SETTINGS, ConfigError, TrainConfig

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
QUICK_RUN = {"epochs": 8, "limit": 7000, "batch_size": 128, "patience": 3}


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
