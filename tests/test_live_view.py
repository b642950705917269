"""The live training view's pure parts: why validation can beat training; a quick run can stop early."""

from dataclasses import replace

from kmnist.network.config import TrainConfig, validation_note
from kmnist.network.recipes import QUICK_RUN, RECIPES, quick_run_settings, recipe


def test_validation_note_names_only_what_the_run_trains_with():
    studio = validation_note(TrainConfig())
    assert "dropout, augmentation and label smoothing act only in training" in studio
    assert "averaged over the epoch while the weights still improve" in studio
    classic = validation_note(RECIPES["classic"])  # dropout, but no augmentation or label smoothing
    assert "dropout acts only in training" in classic and "label smoothing" not in classic
    assert "augmentation" not in classic
    bare = validation_note(replace(RECIPES["classic"], dropout=0.0))
    assert "only in training" not in bare and "averaged over the epoch" in bare
    assert "dropout and label smoothing act" in validation_note(TrainConfig(augment=False))


def test_a_quick_run_can_stop_early():
    assert QUICK_RUN["patience"] < QUICK_RUN["epochs"]
    for name in RECIPES:
        assert recipe(name, **QUICK_RUN).patience == QUICK_RUN["patience"]
        assert quick_run_settings(name, train_size=7000)["patience"] == QUICK_RUN["patience"]
