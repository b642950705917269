"""kmnist.network.config and recipes: each setting's bounds, stated once; the quick run pages start from."""

import math
from pathlib import Path

from kmnist.network.config import BOUNDS, Bound, TrainConfig
from kmnist.network.recipes import QUICK_RUN, RECIPES, quick_run, quick_run_words, recipe

PAGES = Path(__file__).resolve().parent.parent / "pages"


def test_a_bound_allows_its_range_and_says_it_in_words():
    epochs = Bound(1, 1000, whole=True)
    assert epochs.allows(1) and epochs.allows(1000) and not epochs.allows(0) and not epochs.allows(1001)
    assert not epochs.allows(2.0)  # a whole number is an int
    assert epochs.words() == "a whole number from 1 to 1000"
    rate = Bound(0.0, 10.0, low_open=True)
    assert rate.allows(10) and rate.allows(1e-9) and not rate.allows(0.0)
    assert not rate.allows(math.nan) and not rate.allows(math.inf) and not rate.allows("1")
    assert rate.words() == "above 0 and at most 10"
    assert Bound(0.0, 1.0, low_open=True, high_open=True).words() == "strictly between 0 and 1"
    assert Bound(0.0, 1.0, high_open=True).words() == "at least 0 and below 1"
    assert Bound(100, whole=True, unit=" images").words() == "a whole number of at least 100 images"
    assert Bound(1, whole=True).allows(10**9)  # no upper limit


def test_train_config_checks_every_bound_and_names_the_range():
    assert TrainConfig().problems() == [] and TrainConfig(limit=None).problems() == []
    for name, bound in BOUNDS.items():
        outside = bound.low - 1 if not bound.low_open else bound.low
        problems = TrainConfig(**{name: outside}).problems()
        assert len(problems) == 1 and bound.words() in problems[0], (name, problems)
    assert TrainConfig(learning_rate=50).problems() == [
        "learning rate must be above 0 and at most 10, not 50"]
    assert "seed must be a whole number from 0 to 2147483647" in TrainConfig(seed=2**31).problems()[0]


def test_the_recipes_and_the_quick_run_lie_within_the_bounds():
    for config in RECIPES.values():
        for name, bound in BOUNDS.items():
            assert getattr(config, name) is None or bound.allows(getattr(config, name)), name
    for name, value in QUICK_RUN.items():
        assert BOUNDS[name].allows(value), name


def test_a_quick_run_keeps_the_base_settings_and_fits_the_data():
    base = recipe("classic", seed=7)
    quick = quick_run(base, train_size=60_000)
    assert (quick.epochs, quick.limit, quick.batch_size, quick.patience) == (
        QUICK_RUN["epochs"], QUICK_RUN["limit"], QUICK_RUN["batch_size"], QUICK_RUN["patience"])
    assert (quick.optimizer, quick.learning_rate, quick.seed) == ("adadelta", 1.0, 7)
    assert quick_run(base, train_size=QUICK_RUN["limit"] - 1).limit is None  # all of a smaller copy
    assert quick.problems() == []


def test_the_quick_run_in_words_is_built_from_quick_run():
    words = quick_run_words()
    assert words == (f"{QUICK_RUN['epochs']} epochs on {QUICK_RUN['limit']:,} images, batch "
                     f"{QUICK_RUN['batch_size']}, early-stopping patience {QUICK_RUN['patience']}")
    assert quick_run_words(train_size=1234).startswith(f"{QUICK_RUN['epochs']} epochs on 1,234 images")
    for page in ("training.py", "pooling.py"):
        assert "quick_run_words(" in (PAGES / page).read_text(), page

