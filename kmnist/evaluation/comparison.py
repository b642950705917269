"""Runs compared by their cards: the settings that differ, test metrics, per-class accuracy, curves."""

from __future__ import annotations

from dataclasses import fields

from kmnist.data.classes import CLASSES
from kmnist.network.config import TrainConfig
from kmnist.registry.cards import Card, TestMetrics

# The settings a card records, in TrainConfig's order, then the data it was trained on.
SETTINGS = (*(f.name for f in fields(TrainConfig)), "data")


MISSING = "–"  # a setting or metric the card does not record (e.g. a run interrupted early)


def setting_value(card: Card, name: str) -> str:
    """One setting of a card as a word: numbers as written, on/off for switches, "all" for no image limit."""
    if name == "data":
        if card.data is None or card.data.name is None:
            return MISSING
        return card.data.name + ("" if card.data.official else " (not official)")
    if card.config is None or name not in card.config_fields:
        return MISSING
    value = getattr(card.config, name)
    if value is None and name == "limit":
        return "all"
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def settings_compared(cards: dict[str, Card]) -> tuple[list[dict], dict[str, str]]:
    """(rows, shared): one row per setting whose value differs between the cards ({"setting": name,
    model: value, ...}), and the settings all cards share, name -> value."""
    rows, shared = [], {}
    for name in SETTINGS:
        values = {model: setting_value(card, name) for model, card in cards.items()}
        if len(set(values.values())) > 1:
            rows.append({"setting": name, **values})
        else:
            shared[name] = next(iter(values.values()), MISSING)
    return rows, shared


def shared_note(shared: dict[str, str]) -> str:
    """The settings the runs share, on one line: "epochs = 30, seed = 42, …"."""
    if not shared:
        return "The runs share no setting."
    return "Shared by all: " + ", ".join(f"{name} = {value}" for name, value in shared.items()) + "."


def places_to_tell_apart(values, least: int = 1, most: int = 2) -> int:
    """The decimals (from `least` to `most`) that percentages need so that values which differ read
    differently side by side: 97.50 % and 97.55 % need two (at one, both read 97.5 %)."""
    known = {value for value in values if value is not None and value == value}
    for places in range(least, most):
        if len({f"{value:.{places}%}" for value in known}) == len(known):
            return places
    return most


def _percent(value, places: int = 1) -> str:
    # NaN: a class with no test images
    return MISSING if value is None or value != value else f"{value:.{places}%}"


def _number(value, digits: int) -> str:
    return MISSING if value is None else f"{value:.{digits}f}"


def _count(value) -> str:
    return MISSING if value is None else f"{value:,}"


def metrics_rows(cards: dict[str, Card]) -> list[dict]:
    """One row per model card, ready to show: test accuracy, macro AUC, test loss, best validation
    accuracy, training time, parameters, epochs run, best epoch, how the run ended."""
    tests = {name: card.test or TestMetrics() for name, card in cards.items()}
    validations = {name: (card.validation or {}).get("val_accuracy") for name, card in cards.items()}
    test_places = places_to_tell_apart(test.accuracy for test in tests.values())
    validation_places = places_to_tell_apart(validations.values())
    rows = []
    for name, card in cards.items():
        test = tests[name]
        rows.append({
            "model": name,
            "test accuracy": _percent(test.accuracy, test_places),
            "macro AUC": _number(test.macro_auc, 4),
            "test loss": _number(test.loss, 3),
            "validation accuracy": _percent(validations[name], validation_places),
            "training time": MISSING if card.training_seconds is None else f"{card.training_seconds:,.1f} s",
            "parameters": _count(card.parameters),
            "epochs run": _count(len(card.history or ()) if card.epochs_run is None else card.epochs_run),
            "best epoch": _count(card.best_epoch),
            "status": MISSING if card.status is None else card.status.value,
        })
    return rows


def per_class_accuracy(cards: dict[str, Card]) -> dict[str, list[float | None]]:
    """Each card's test accuracy per class (None for every class when the card has none)."""
    return {name: list(card.test and card.test.per_class_accuracy or [None] * len(CLASSES))
            for name, card in cards.items()}


def per_class_rows(cards: dict[str, Card]) -> list[dict]:
    """One row per model, ready to show: its test accuracy on each class (columns named like
    charts.style.CLASS_NAMES), so any number of models stays in view, one below the other."""
    accuracy = per_class_accuracy(cards)
    places = [places_to_tell_apart(values[kana.index] for values in accuracy.values()) for kana in CLASSES]
    return [{"model": name, **{kana.name: _percent(values[kana.index], places[kana.index])
                               for kana in CLASSES}} for name, values in accuracy.items()]


def accuracy_verdict(accuracies: dict[str, float | None], cause: str | None = None) -> str | None:
    """How the models' test accuracies compare, in the decimals they are shown with: equal when they read
    the same (so `cause`, e.g. "pooling", made no difference that shows), else the best ahead of the worst
    by so many points, a gap from `cause` and training noise. None for fewer than two known accuracies."""
    known = {name: value for name, value in accuracies.items() if value is not None and value == value}
    if len(known) < 2:
        return None
    places = places_to_tell_apart(known.values())
    shown = {name: _percent(value, places) for name, value in known.items()}
    if len(set(shown.values())) == 1:
        made = f", so {cause} made no difference that shows" if cause else ""
        return (f"{'Both' if len(known) == 2 else f'All {len(known)}'} read the same test accuracy, "
                f"{next(iter(shown.values()))}: at this precision they are equal{made} on these test images.")
    best, worst = max(known, key=known.get), min(known, key=known.get)
    points = float(shown[best][:-1]) - float(shown[worst][:-1])  # as read, so 95.0 % - 93.6 % is 1.4
    source = f"{cause} and training noise" if cause else "training noise"
    return (f"{best} is ahead of {worst} by {points:.{places}f} points of test accuracy ({shown[best]} "
            f"against {shown[worst]}): a gap that comes from {source}.")


def curve_records(cards: dict[str, Card]) -> list[dict]:
    """The epoch records of each card's "history", tagged with the model name (for charts.training_curves)."""
    return [{**record, "kind": record.get("kind", "epoch"), "run": name}
            for name, card in cards.items() for record in card.history or ()]
