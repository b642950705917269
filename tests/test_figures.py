"""Shared figures (kmnist.ui.figures): built once per content, drawn as they were built."""

import json

import numpy as np
import plotly.io as pio

from kmnist.charts.layers import feature_map
from kmnist.ui.figures import frozen, shared_figure


def test_a_shared_figure_is_built_once_per_content():
    first = shared_figure(feature_map, np.zeros((4, 4)), "a map", height=300)
    assert shared_figure(feature_map, np.zeros((4, 4)), "a map", height=300) is first
    other = shared_figure(feature_map, np.eye(4), "a map", height=300)
    assert other is not first and other.to_dict()["data"] != first.to_dict()["data"]
    assert shared_figure(feature_map, np.zeros((4, 4)), "a map", height=200) is not first


def test_a_fitted_shared_figure_is_fitted_and_the_unfitted_one_is_not_changed():
    plain = shared_figure(feature_map, np.zeros((4, 8)), "wide")
    fitted = shared_figure(feature_map, np.zeros((4, 8)), "wide", fit=((4, 8), 500))
    assert fitted is not plain and fitted.layout.height != plain.layout.height == 360


def test_a_frozen_figure_draws_as_it_did_before():
    figure = feature_map(np.arange(9.0).reshape(3, 3), "values", highlight=(0, 0, 2))
    before = json.loads(pio.to_json(figure.to_dict(), validate=False))
    assert json.loads(pio.to_json(frozen(figure).to_dict(), validate=False)) == before
