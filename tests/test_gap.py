"""kmnist.evaluation.gap: when a validation accuracy far above the test accuracy is pointed out."""

from kmnist.evaluation import gap
from kmnist.registry.cards import Card


def card(validation, test) -> Card:
    return Card.from_dict({"validation": {"val_accuracy": validation}, "test": {"accuracy": test}})


def test_a_gap_of_two_points_or_more_is_pointed_out_with_both_figures():
    assert gap.gap(card(0.985, 0.933)) == (0.985, 0.933)
    assert gap.gap_words(0.985, 0.933) == "validation 98.50% vs test 93.30% (5.2 points apart)"
    assert gap.gap(card(0.975, 0.955)) == (0.975, 0.955)  # exactly GAP_POINTS
    assert gap.gap(card(0.974, 0.955)) is None and gap.gap(card(0.95, 0.97)) is None
    assert gap.gap(None) is None and gap.gap(Card.from_dict({"test": {"accuracy": 0.9}})) is None
    assert gap.LESSON.count(". ") == 1 and gap.LESSON.endswith(".")  # two sentences
    assert "other sources than the training set" in gap.LESSON
