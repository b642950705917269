"""A validation accuracy far above the test accuracy, pointed out and explained: KMNIST's lesson."""

from __future__ import annotations

from kmnist.registry.cards import Card

GAP_POINTS = 2.0  # percentage points of validation over test accuracy worth pointing out


LESSON = ("The test set comes from other sources than the training set, while the validation images come "
          "from the training set itself, so they resemble what the model learnt from. Validation shows how "
          "well it learnt its sources; the test figure, how well that carries to new ones: it is the fair "
          "one.")


def gap(card: Card | None) -> tuple[float, float] | None:
    """(validation accuracy, test accuracy) of a card whose validation accuracy lies GAP_POINTS or more
    above its test accuracy; None otherwise (or when it lacks either)."""
    validation = (card.validation or {}).get("val_accuracy") if card else None
    test = card.test.accuracy if card and card.test else None
    if validation is None or test is None or (validation - test) * 100 < GAP_POINTS:
        return None
    return validation, test


def gap_words(validation: float, test: float) -> str:
    """The two figures side by side, e.g. "validation 98.50 % vs test 93.30 % (5.2 points apart)"."""
    return f"validation {validation:.2%} vs test {test:.2%} ({(validation - test) * 100:.1f} points apart)"
