"""kmnist.charts.style, clicks, dataset and layers: what each figure shows, and which point a click names."""

import numpy as np
import plotly.graph_objects as go
import pytest

from kmnist.charts import clicks, dataset, layers, style
from kmnist.charts.style import ACCENT
from kmnist.data.classes import CLASSES


# -- style: the house look, fitting a width, invisible click targets --------------------------------------
def test_styled_sets_title_height_and_leaves_room_only_for_a_title():
    titled = style.styled(go.Figure(), "Hello", height=250)
    assert titled.layout.title.text == "Hello" and titled.layout.height == 250
    assert titled.layout.margin.t == style.MODEBAR + style.HEADING and titled.layout.legend.orientation == "h"
    assert style.styled(go.Figure()).layout.margin.t == 20 and style.styled(go.Figure()).layout.height == 320


def test_class_labels_and_colours_follow_the_classes():
    assert [kana.label for kana in CLASSES] == style.CLASS_LABELS and style.CLASS_LABELS[5] == "5 は (ha)"
    assert len(set(style.DATASET_CLASS_COLORS)) == len(CLASSES)


def test_fit_to_width_gives_square_pixels_the_height_that_fills_the_width():
    figure = style.fit_to_width(go.Figure(), (10, 20), width=210)  # no title: 5 px above and below
    assert figure.layout.height == 5 + 5 + 200 * 10 // 20
    titled = style.fit_to_width(style.styled(go.Figure(), "t"), (30, 30), width=110)
    top = style.MODEBAR + style.HEADING  # the title below the mode bar's row
    assert titled.layout.height == top + 5 + 100 and titled.layout.margin.t == top


def test_click_targets_are_nearly_invisible_markers_carrying_their_customdata():
    figure = style.click_targets(go.Figure(), [1, 2], [3, 4], [[0, 5], [1, 6]], 12, ["a", "b"])
    markers = figure.data[0]
    assert list(markers.x) == [1, 2] and list(markers.y) == [3, 4]
    assert [list(c) for c in markers.customdata] == [[0, 5], [1, 6]] and list(markers.hovertext) == ["a", "b"]
    assert markers.marker.opacity < 0.05 and markers.marker.size == 12 and markers.showlegend is False


# -- clicks: the data a clicked point carries -------------------------------------------------------------
def test_selected_index_is_the_first_point_that_carries_a_position():
    assert clicks.selected_index([{"x": 1}, {"customdata": [17, "1 き (ki)"]}, {"customdata": [3]}]) == 17
    assert clicks.selected_index([]) is None and clicks.selected_index(None) is None
    assert clicks.selected_index([{"customdata": []}]) is None


def test_clicked_cell_needs_two_numbers():
    assert clicks.clicked_cell([{"customdata": [4]}, {"customdata": [2.0, 7]}]) == (2, 7)
    assert clicks.clicked_cell([{"customdata": [4]}]) is None and clicks.clicked_cell(None) is None


# -- dataset: balance, intensities, 2-D maps, galleries ---------------------------------------------------
def test_class_balance_draws_one_bar_group_per_split_with_shares_for_the_hover():
    figure = dataset.class_balance_figure({"train": [6] * 10, "test": [1] * 9 + [11]})
    train, test = figure.data
    assert train.name == "train (60)" and test.name == "test (20)"
    assert list(train.x) == style.CLASS_LABELS and list(test.y)[-1] == 11
    assert list(train.customdata) == pytest.approx([10.0] * 10)
    assert test.customdata[-1] == pytest.approx(55.0) and "% of test" in test.hovertemplate
    assert figure.layout.barmode == "group" and figure.layout.title.text == "Images per class"


def test_intensity_histogram_places_each_bar_over_its_bin():
    counts, edges = np.histogram([0, 0, 0, 200, 255], bins=[0, 128, 256])
    figure = dataset.intensity_histogram_figure(counts, edges, log_y=True)
    bars = figure.data[0]
    assert list(bars.x) == [64.0, 192.0] and list(bars.width) == [128, 128] and list(bars.y) == [3, 2]
    assert list(bars.customdata) == ["0–127", "128–255"]
    assert figure.layout.yaxis.type == "log" and figure.layout.title.text == "Pixel intensities"
    assert dataset.intensity_histogram_figure(counts, edges, title="Ink").layout.yaxis.type is None


def test_projection_draws_one_trace_per_present_class_and_each_point_names_its_image():
    coordinates = np.array([[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]])
    figure = dataset.projection_figure(coordinates, labels=[3, 0, 3], positions=[100, 101, 102], title="PCA",
                                       axis_names=("PC1", "PC2"))
    assert [trace.name for trace in figure.data] == [CLASSES[0].label, CLASSES[3].label]  # class order
    tsu = figure.data[1]
    assert list(tsu.x) == [0.0, 4.0] and list(tsu.y) == [1.0, 5.0]
    assert [list(c) for c in tsu.customdata] == [[100, 3], [102, 3]]  # position and class index
    assert tsu.marker.color == style.DATASET_CLASS_COLORS[3]
    assert figure.layout.xaxis.title.text == "PC1" and figure.layout.clickmode == "event+select"
    assert clicks.selected_index([{"customdata": list(tsu.customdata[1])}]) == 102  # a click reads back


def test_labelled_gallery_is_one_image_with_a_caption_per_tile():
    images = np.zeros((12, 28, 28), dtype="uint8")
    images[7] = 255  # the eighth tile: row 1, column 2 of 5
    figure = dataset.labelled_gallery(images, [f"c{i}" for i in range(12)], columns=5)
    assert len(figure.data) == 1
    grid = np.asarray(figure.data[0].z, dtype=float)
    cell_h, cell_w = 28 + 9 + 2, 28 + 2
    assert grid.shape == (3 * cell_h, 5 * cell_w)
    assert np.all(grid[cell_h:cell_h + 28, 2 * cell_w:2 * cell_w + 28] == 1.0)
    assert np.nansum(grid) == 28 * 28  # only that tile is ink; the gaps are blank (NaN)
    assert [a.text for a in figure.layout.annotations] == [f"c{i}" for i in range(12)]
    assert figure.layout.annotations[7].x == 2 * cell_w + 14
    assert dataset.labelled_gallery(np.zeros((0, 28, 28)), []).layout.title.text == "Nothing to show"


# -- layers: feature maps, grids, bars, the network at a glance -------------------------------------------
def test_feature_map_shows_the_values_and_highlights_the_window():
    values = np.arange(16.0).reshape(4, 4)
    figure = layers.feature_map(values, "map", highlight=(2, 0, 2), show_values=True, zrange=(0, 20))
    shape = figure.layout.shapes[0]
    assert (shape.x0, shape.x1, shape.y0, shape.y1) == (-0.5, 1.5, 1.5, 3.5)
    heat = figure.data[0]
    assert np.array_equal(heat.z, values) and (heat.zmin, heat.zmax) == (0, 20) and heat.text[1][2] == 6.0
    assert figure.layout.yaxis.autorange == "reversed" and figure.layout.title.text == "map"
    assert layers.feature_map(values, "plain").layout.shapes == ()
    assert layers.grid_heatmap(np.zeros((3, 3)), "grid").layout.title.text == "grid"


def test_map_grid_names_the_map_under_the_cursor_and_sizes_itself_to_the_grid():
    grid, channels = np.ones((10, 40)), np.tile([0, 1, -1, 2], (10, 10))
    figure = layers.map_grid_figure(grid, channels, "conv")
    assert np.array_equal(figure.data[0].customdata, channels) and "map %{customdata}" in \
        figure.data[0].hovertemplate
    assert figure.layout.height == 60 + 620 * 10 // 40
    assert layers.map_grid_figure(np.ones((40, 10)), channels.T, "tall").layout.height == 620


def test_activation_and_probability_bars_show_their_values():
    bars = layers.activation_bars([0.0, 2.5, 1.0], "dense").data[0]
    assert list(bars.x) == [0, 1, 2] and list(bars.y) == [0.0, 2.5, 1.0]
    probabilities = [0.05] * 10
    probabilities[4], probabilities[2] = 0.5, 0.1
    figure = layers.probability_bars(probabilities, highlight=2)
    colours = list(figure.data[0].marker.color)
    assert colours[4] == "#2ca02c" and colours[2] == "#ff7f0e" and colours[0] == "#9aa5b1"  # best, truth
    assert figure.data[0].text[4] == "50.0%" and list(figure.data[0].x) == style.CLASS_LABELS


def test_top_classes_are_drawn_best_on_top():
    top = [{"class": 5, "prob": 0.7}, {"class": 6, "prob": 0.2}]  # は (ha), ま (ma)
    bars = layers.top_classes_bars(top).data[0]
    assert list(bars.y) == ["ま (ma)", "は (ha)"] and list(bars.x) == [0.2, 0.7]  # plotly draws bottom-up
    assert bars.marker.color == ACCENT and list(bars.text) == ["20.0%", "70.0%"]  # the theme's colour


def test_every_cell_of_a_clickable_map_carries_its_row_and_column():
    values = np.arange(6.0).reshape(2, 3)
    figure = layers.clickable_map(values, "pooled")
    targets = figure.data[1]
    assert [list(c) for c in targets.customdata] == [[0, 0], [0, 1], [0, 2], [1, 0], [1, 1], [1, 2]]
    assert list(targets.x) == [0, 1, 2, 0, 1, 2] and list(targets.y) == [0, 0, 0, 1, 1, 1]
    assert targets.hovertext[5] == "row 1, col 2: 5.000" and figure.data[0].hoverinfo == "skip"
    assert clicks.clicked_cell([{"customdata": list(targets.customdata[4])}]) == (1, 1)


def test_network_overview_has_a_column_per_stage_and_clickable_maps():
    image = np.zeros((28, 28))
    grid = np.zeros((4, 2))
    channels = np.array([[0, 0], [-1, -1], [3, 3], [3, 3]])  # map 0 on top, map 3 below a gap
    probabilities = np.full(10, 0.01)
    probabilities[7] = 0.91
    figure = layers.network_overview([("input", image, np.zeros((28, 28))), ("conv", grid, channels)],
                                     ("dense", np.arange(5.0)), probabilities)
    assert [a.text for a in figure.layout.annotations] == ["input", "conv", "dense", "softmax"]
    targets = [t for t in figure.data if t.type == "scatter"]
    assert len(targets) == 2 and len(targets[0].x or ()) == 0  # the input is not clickable
    assert [list(c) for c in targets[1].customdata] == [[1, 0], [1, 3]]  # (stage, map)
    assert list(targets[1].y) == [0.0, 2.5] and list(targets[1].x) == [0.5, 0.5]  # each map's centre
    dense = next(t for t in figure.data if t.type == "heatmap" and t.xaxis == "x3")
    assert np.asarray(dense.z, float).shape == (3, 3) and np.isnan(np.asarray(dense.z, float)[2, 2])
    softmax = figure.data[-1]
    assert list(softmax.y) == style.CLASS_LABELS and softmax.marker.color[7] == "#2ca02c"


def test_value_grid_writes_every_number_and_marks_the_padding():
    values = np.array([[0.0, 0.5], [1.25, -1.0]])
    padded = np.array([[True, False], [False, False]])
    heat = layers.value_grid(values, "window", padded=padded).data[0]
    assert heat.text.tolist() == [["pad 0", "0.500"], ["1.250", "-1.000"]]
    assert layers.value_grid(values, "w").data[0].text[0][0] == "0.000"


def test_value_grids_give_each_kind_one_scale_symmetric_about_zero_with_a_colour_bar():
    small, large = np.full((3, 3), 0.125), np.eye(3)
    rows = [[("window a", small, None), ("weights a", -large, None)],
            [("window b", large, np.eye(3, dtype=bool)), ("weights b", 0.5 * large, None)]]
    limits = {"input value": layers.symmetric_limit(small, large), "weight": layers.symmetric_limit(-large)}
    assert limits == {"input value": 1.0, "weight": 1.0} and layers.symmetric_limit(np.zeros(4)) == 1.0
    figure = layers.value_grids(rows, limits)
    assert [t.coloraxis for t in figure.data] == ["coloraxis", "coloraxis", "coloraxis2", "coloraxis2"]
    for axis, title in (("coloraxis", "input value"), ("coloraxis2", "weight")):
        scale = figure.layout[axis]
        assert (scale.cmin, scale.cmax) == (-1.0, 1.0) and scale.colorbar.title.text == title
    # 0.125 is pale beside the other row's 1.0: the same scale, not each grid its own
    assert [a.text for a in figure.layout.annotations] == ["window a", "weights a", "window b", "weights b"]
    assert figure.data[1].text[0][0] == "pad 0" and figure.data[0].text[0][0] == "0.125"  # column by column
    # one grid alone: symmetric about 0, up to its own largest size unless given a shared one
    alone = layers.value_grid(np.array([[0.0, -0.25]]), "w").data[0]
    assert (alone.zmin, alone.zmax) == (-0.25, 0.25)
    shared = layers.value_grid(np.array([[0.0, -0.25]]), "w", limit=2.0).data[0]
    assert (shared.zmin, shared.zmax) == (-2.0, 2.0)


def test_the_grad_cam_heatmap_is_drawn_in_the_overlays_colours_with_their_scale():
    from kmnist.inspect.gradcam import HEAT

    heat = layers.grad_cam_heatmap(np.linspace(0, 1, 28 * 28).reshape(28, 28), "heatmap alone").data[0]
    assert [list(stop) for stop in heat.colorscale] == [[0.0, "rgb(0, 0, 0)"], [0.5, "rgb(255, 0, 0)"],
                                                         [1.0, "rgb(255, 255, 0)"]] == [
        [stop, f"rgb{rgb}"] for stop, rgb in HEAT]
    assert (heat.zmin, heat.zmax) == (0.0, 1.0) and heat.showscale is not False
    assert list(heat.colorbar.ticktext) == ["none", "half", "most"]
