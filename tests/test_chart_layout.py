"""kmnist.charts' shared layout (issue 20): titles clear of the mode bar, model names in full, the mean's
label clear of the bars' labels, square maps without empty bands."""

import numpy as np
import plotly.graph_objects as go
import pytest

from kmnist.charts import dataset, style, training

LONG = ("my-model-max-2", "my-model-max-3")  # Plotly's hover labels cut both to "my-model-max..."


def test_a_title_stands_below_the_mode_bar_row_just_above_the_plot():
    figure = style.styled(go.Figure(), "A title that runs under the whole mode bar", height=300)
    title, margin = figure.layout.title, figure.layout.margin
    assert (title.yref, title.y, title.yanchor) == ("paper", 1, "bottom")  # its foot on the plot's top
    assert margin.t >= style.MODEBAR + style.HEADING  # the mode bar's row, then the title's own
    assert style.HEADING - title.pad.b >= 18  # a line of a 16 px title between the two
    assert style.styled(go.Figure()).layout.margin.t < style.MODEBAR  # no title: no room kept


def test_the_dataset_maps_and_subplot_titles_keep_clear_of_the_mode_bar():
    coordinates = np.zeros((3, 2))
    pca = dataset.projection_figure(coordinates, [0, 1, 2], [0, 1, 2], "PCA of the pixels of all 7,000 "
                                    "train images")
    assert pca.layout.margin.t >= style.MODEBAR + style.HEADING and pca.layout.title.yanchor == "bottom"
    assert (pca.layout.legend.yref, pca.layout.legend.y, pca.layout.legend.yanchor) == ("paper", 1, "top")
    curves = training.training_curves([{"kind": "epoch", "epoch": 1, "loss": 1.0}])
    assert [a.text for a in curves.layout.annotations][0] == "Loss (lower is better)"
    assert curves.layout.margin.t >= style.MODEBAR + style.HEADING


def test_a_legend_below_the_plot_sits_at_the_figures_foot_under_the_axis_titles():
    legend = style.styled(go.Figure()).layout.legend
    assert (legend.orientation, legend.yref, legend.y, legend.yanchor) == ("h", "container", 0, "bottom")


def test_long_model_names_that_share_a_prefix_read_in_full_and_apart():
    records = [{"kind": "epoch", "epoch": 1, "loss": 1.0, "val_loss": 1.1, "run": name} for name in LONG]
    for figure in (training.training_curves(records),
                   training.per_class_comparison({name: [0.9] * 10 for name in LONG})):
        assert figure.layout.hoverlabel.namelength == -1  # hover labels show names whole
        names = [trace.name for trace in figure.data]
        assert all(any(name in shown for shown in names) for name in LONG)
        assert len(set(names)) == len(names)


def test_the_mean_is_named_right_of_the_bars_where_no_bar_label_can_be():
    figure = training.per_class_bar([0.896] * 5 + [0.99] * 5)
    label, line = figure.layout.annotations[0], figure.layout.shapes[0]
    assert label.text == "mean 94.3%" and (label.xref, label.x, label.xanchor) == ("x domain", 1, "left")
    assert figure.layout.margin.r >= 7 * len(label.text)  # room for it beyond the plot
    bars = figure.data[0]
    assert bars.textposition == "inside" and line.layer == "below"  # the bars hide the line, not its labels
    assert figure.layout.yaxis.range == (0, 1)


@pytest.mark.parametrize("shape", [(24, 24), (12, 12), (10, 20)])
def test_fit_to_width_leaves_room_for_tick_labels_and_no_band(shape):
    figure = style.fit_to_width(style.styled(go.Figure(), "map"), shape, width=300, ticks=25)
    margin = figure.layout.margin
    plot_width, plot_height = 300 - margin.l - margin.r, figure.layout.height - margin.t - margin.b
    assert margin.l == margin.b == 30
    assert plot_height == pytest.approx(plot_width * shape[0] / shape[1], abs=1)
