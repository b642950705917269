"""kmnist.ui.pooling_state: the Pooling page's model, channel and window choices, and when jobs show."""

from types import SimpleNamespace

import numpy as np

from kmnist.inspect import pooling
from kmnist.jobs import snapshots
from kmnist.ui import pooling_state as ps


def maps() -> np.ndarray:
    """(6, 6, 3) maps: channel 1 varies most; channel 2's window (1, 2) holds one strong value."""
    out = np.zeros((6, 6, 3))
    out[..., 1] = np.arange(36).reshape(6, 6)
    out[2, 5, 2] = 9.0
    return out


def test_the_first_model_is_the_max_model_of_the_first_pair():
    assert ps.first_model(["a", "b"], [("p-max", "p-avg")]) == "p-max"
    assert ps.first_model(["a", "b"], []) == "a"


def test_a_first_visit_opens_on_the_liveliest_channel_and_its_telling_window():
    state = {}
    ps.settle_channel(state, maps())
    assert state[ps.CHANNEL] == 1 == pooling.liveliest_channel(maps())
    telling = ps.settle_window(state, maps()[..., 1])
    assert telling == pooling.telling_window(maps()[..., 1])
    assert (state[ps.ROW], state[ps.COL]) == telling


def test_the_window_stays_until_the_channel_changes_then_follows_it():
    state = {ps.CHANNEL: 2, ps.ROW: 0, ps.COL: 0}
    ps.settle_channel(state, maps())
    assert state[ps.CHANNEL] == 2  # the user's channel stays
    assert ps.settle_window(state, maps()[..., 2]) == (1, 2)
    assert (state[ps.ROW], state[ps.COL]) == (0, 0)  # the user's window stays too
    ps.channel_changed(state)
    ps.settle_window(state, maps()[..., 2])
    assert (state[ps.ROW], state[ps.COL]) == (1, 2) and ps.FOLLOWS not in state  # followed, once
    state[ps.ROW] = 0
    ps.settle_window(state, maps()[..., 2])
    assert (state[ps.ROW], state[ps.COL]) == (0, 2)


def test_choices_made_for_a_larger_model_are_clamped():
    state = {ps.CHANNEL: 40, ps.ROW: 9, ps.COL: -1}
    ps.settle_channel(state, maps())
    ps.settle_window(state, maps()[..., 0])
    assert (state[ps.CHANNEL], state[ps.ROW], state[ps.COL]) == (2, 2, 0)


def test_the_jump_button_moves_both_sliders():
    state = {}
    ps.jump_to(state, (2, 1))
    assert (state[ps.ROW], state[ps.COL]) == (2, 1)


def test_the_monitor_shows_for_waiting_or_active_jobs_and_after_a_pair_job():
    job = SimpleNamespace
    assert not ps.shows_monitor(None, ())
    assert ps.shows_monitor(None, (job(),))
    assert ps.shows_monitor(job(state=snapshots.RUNNING, pair=False), ())
    assert ps.shows_monitor(job(state=snapshots.FINISHED, pair=True), ())
    assert not ps.shows_monitor(job(state=snapshots.FINISHED, pair=False), ())  # the Training page's
