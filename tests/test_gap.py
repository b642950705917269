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


def metrics_script():
    import streamlit as st

    from kmnist.registry.cards import Card
    from kmnist.ui.model_card import test_metrics

    test_metrics(Card.from_dict(st.session_state["card"]))


def test_a_finished_run_s_figures_point_the_gap_out_beside_the_test_accuracy():
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_function(metrics_script, default_timeout=30)
    at.session_state["card"] = {"validation": {"val_accuracy": 0.985}, "test": {"accuracy": 0.933},
                                "training_seconds": 60.0}
    at.run()
    assert at.metric[0].label == "Test accuracy" and at.metric[0].value == "93.3%"
    assert at.info[0].value.startswith("**Far better on validation than on test:** validation 98.50% vs "
                                       "test 93.30% (5.2 points apart). The test set comes from other")
    at.session_state["card"] = {"validation": {"val_accuracy": 0.97}, "test": {"accuracy": 0.96}}
    at.run()
    assert not at.info
