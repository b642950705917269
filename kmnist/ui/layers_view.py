"""Layer visualizer sections: the input and its prediction, the network at a glance, and one convolution
worked out (both clickable)."""

from __future__ import annotations

import numpy as np
import streamlit as st

from kmnist.charts.layers import (
    clickable_map,
    feature_map,
    network_overview,
    probability_bars,
    symmetric_limit,
    value_grid,
    value_grids,
)
from kmnist.data.classes import CLASSES
from kmnist.data.pixels import to_uint8, upscale
from kmnist.inspect import convolution, grids, worked
from kmnist.inspect.overview import SHOWN, overview
from kmnist.inspect.pooling import clamp
from kmnist.ui.clicks import new_click
from kmnist.ui.figures import shared_figure
from kmnist.ui.layer_input import LayerInput, seen_note

# The sections below the overview, one open at a time (kmnist.ui.sections), and their widgets' keys.
FEATURE_MAPS, FILTERS, WORKED, DENSE, GRAD_CAM = VIEWS = (
    "Feature maps", "Conv filters", "One convolution, worked out", "Dense layers and softmax",
    "Where did it look? (Grad-CAM)")
VIEW_KEY = "layers_view"
VIEW_WIDGETS = ("filters_layer", "conv_layer", "conv_filter", "conv_row", "conv_col", "cam_class",
                "cam_layer")


def input_and_prediction(entry, data, chosen: LayerInput, probabilities: np.ndarray) -> None:
    """The input as the model sees it, its prediction (right or wrong, and whether the model trained on
    it), and the softmax output as bars."""
    predicted, truth = int(probabilities.argmax()), chosen.truth
    st.header("Input and prediction")
    shown, bars = st.columns([1, 3])
    shown.image(upscale(to_uint8(chosen.image), 6), caption=chosen.caption, output_format="PNG",
                alt=f"The input followed through the network: {chosen.caption}, 28x28 greyscale pixels")
    verdict = "" if truth is None else (" :green[:material/check_circle: correct]" if predicted == truth else
                                        f" :red[:material/cancel: wrong] (true: {CLASSES[truth].name})")
    shown.markdown(f"**Prediction: {CLASSES[predicted].name} {probabilities[predicted]:.0%}**{verdict}")
    if seen := seen_note(entry.card, data, chosen.position, entry.name):
        shown.caption(f":material/warning: {seen}")
    bars.plotly_chart(shared_figure(probability_bars, probabilities, "Softmax output: probability per class",
                                    highlight=truth), key="softmax_bars")


def network_at_a_glance(model, image: np.ndarray, outputs: dict, probabilities: np.ndarray) -> None:
    """The overview chart of `image`'s path, then one map enlarged (a chosen or clicked one) beside the
    filter that made it, or beside the map it pools."""
    state = st.session_state
    glance = overview(model, image, outputs)
    # A click on a map chooses it below (once per click, so the choosers stay free to change afterwards).
    if (picked := glance.clicked(new_click("overview"))) is not None:
        state.overview_layer, state.overview_map = picked
    st.plotly_chart(shared_figure(network_overview, glance.stages, glance.dense, probabilities),
                    key="overview", on_select="rerun", selection_mode="points")
    st.caption(f"Left to right, the path of this input: each column shows a layer's {SHOWN} strongest maps "
               "(highest mean activation) from the top, then the dense units and the class probabilities. "
               "Click a map to enlarge it below with the filter that made it.")
    spatial = glance.layers
    names = [layer.name for layer in spatial]
    chosen_layer, chosen_map = st.columns([1, 1])
    shown = spatial[names.index(chosen_layer.selectbox("Layer", names, key="overview_layer"))]
    maps = outputs[shown.output]
    state.overview_map = clamp(state.get("overview_map"), maps.shape[2], grids.strongest_map(maps))
    last = maps.shape[2] - 1
    channel = chosen_map.number_input(f"Map (0-{last})", 0, last, key="overview_map")
    big, beside = st.columns([1, 1])
    big.plotly_chart(shared_figure(feature_map, maps[..., channel], f"{shown.caption}: map {channel} "
                                 f"({maps.shape[0]}×{maps.shape[1]})", height=420), key="overview_big")
    with beside:
        if shown.type == "Conv2D":
            _filter_of(model, shown.name, channel)
        else:
            source = spatial[names.index(shown.name) - 1]
            st.plotly_chart(shared_figure(feature_map, outputs[source.output][..., channel],
                                        f"{source.name}: map {channel}, which it pools", height=300),
                            key="overview_pooled")
            st.caption(f"A pooling layer has no filter: each value of map {channel} summarises a 2x2 window "
                       f"of `{source.name}`'s map {channel}, shown here.")


def _filter_of(model, layer_name: str, channel: int) -> None:
    """Filter `channel` of conv layer `layer_name` on the (up to four) input maps it weighs most."""
    conv = worked.conv_layer(model, layer_name)
    strongest = convolution.strongest_inputs(conv.kernel)[channel][:4]
    inputs = conv.kernel.shape[2]
    st.markdown(f"**Filter {channel} of `{conv.name}`** on " + (
        f"its one input, `{conv.input or 'the input image'}`" if inputs == 1 else
        f"the {len(strongest)} of its {inputs} input maps from `{conv.input}` it weighs most"))
    limit = symmetric_limit(conv.kernel[:, :, strongest, channel])  # one colour scale for them all
    for column, input_channel in zip(st.columns(2) * 2, strongest, strict=False):  # two by two
        weights = conv.kernel[:, :, input_channel, channel]
        column.plotly_chart(shared_figure(value_grid, weights, f"input map {input_channel}", limit=limit,
                                          height=200), key=f"overview_filter_{input_channel}")
    summed = "its weighted input" if inputs == 1 else f"this filter's sum over all {inputs} input maps"
    st.caption(f"Red weights want a high value in that input map, blue a low one (one colour scale: full red "
               f"+{limit:.3f}, white 0, full blue −{limit:.3f}); the map on the left is {summed}, plus its "
               f"bias ({conv.bias[channel]:+.3f}), through ReLU.")


def convolution_worked_out(model, image: np.ndarray, outputs: dict, convs: list[str]) -> None:
    """One output value of a conv layer, chosen by layer, filter and position (or a click on the output
    map), computed product by product on the layer's real input and checked against the model's own."""
    state = st.session_state
    pick_layer, pick_filter, pick_row, pick_col = st.columns(4)
    worked_layer = pick_layer.selectbox("Conv layer", convs, key="conv_layer")
    layer = worked.conv_layer(model, worked_layer)
    own = outputs[worked_layer]  # the layer's own output, ReLU included
    state.conv_filter = clamp(state.get("conv_filter"), own.shape[2], grids.strongest_map(own))
    filter_index = pick_filter.number_input(f"Filter (0-{own.shape[2] - 1})", 0, own.shape[2] - 1,
                                            key="conv_filter")
    if (hit := new_click("conv_map")) is not None:  # a click on the output map moves the window there
        state.conv_row, state.conv_col = hit
    peak = grids.peak_position(own[..., filter_index])
    state.conv_row = clamp(state.get("conv_row"), own.shape[0], peak[0])
    state.conv_col = clamp(state.get("conv_col"), own.shape[1], peak[1])
    row = pick_row.number_input(f"Row (0-{own.shape[0] - 1})", 0, own.shape[0] - 1, key="conv_row")
    col = pick_col.number_input(f"Column (0-{own.shape[1] - 1})", 0, own.shape[1] - 1, key="conv_col")
    work = worked.worked_convolution(layer, outputs, image, row, col, filter_index)
    source = worked.conv_input(layer, outputs, image)
    size = layer.kernel.shape[0]
    ranked = work.strongest_channels(3)
    source_name = layer.input or "input"
    input_view, output_view = st.columns(2)
    side = f"{source.shape[0]}×{source.shape[1]}"
    input_title = (f"the input image ({side})" if layer.input is None else
                   f"{source_name} map {ranked[0]} ({side})")
    input_view.plotly_chart(shared_figure(feature_map, source[..., ranked[0]],
                                          f"{worked_layer} reads {input_title}",
                                          highlight=(work.top, work.left, size), height=380),
                            key="conv_input")
    output_view.plotly_chart(shared_figure(clickable_map, own[..., filter_index],
                                           f"{worked_layer} map {filter_index} "
                                           f"({own.shape[0]}×{own.shape[1]}): click a cell",
                                           highlight=(row, col, 1), height=380),
                             key="conv_map", on_select="rerun", selection_mode="points")
    if layer.padding == "same":
        input_view.caption(f"'same' padding: the input gets a border of zeros so the map keeps its size; a "
                           f"window at the border reads those zeros ('pad 0' below; {int(work.padded.sum())} "
                           "here).")
    else:
        input_view.caption(f"'valid' padding: every {size}×{size} window lies inside the input, so the map "
                           f"is {size - 1} pixels smaller than its input ({source.shape[0]} → "
                           f"{own.shape[0]}).")
    if layer.input is not None:
        st.markdown(f"Below, the {len(ranked)} of its {source.shape[2]} input maps whose contributions are "
                    f"largest in size, positive or negative, largest first. The largest, {source_name} map "
                    f"{ranked[0]} (shown above), adds {work.contribution(ranked[0])}.")
    kinds = {"input value": work.window, "weight": work.kernel, "product": work.products}
    scales = {kind: symmetric_limit(values[..., ranked]) for kind, values in kinds.items()}  # ± each end
    rows = [[(f"window of {'the image' if layer.input is None else f'{source_name} map {channel}'}",
              work.window[..., channel], work.padded),
             (f"× filter {filter_index}'s weights", work.kernel[..., channel], None),
             (f"= products: sum {work.channel_sums[channel]:+.6f}", work.products[..., channel], work.padded)]
            for channel in ranked]
    st.plotly_chart(shared_figure(value_grids, rows, scales), key="conv_grids")
    st.caption(f"Each row: the {size}×{size} window of one input map, times the filter's weights on that "
               "map, gives the products, summed in the row's last title. Each column has one colour scale "
               "for all its rows, symmetric about 0 (white; red above, blue below), shown under it: "
               + ", ".join(f"{kind}s ±{limit:.3f}" for kind, limit in scales.items()) + ".")
    if len(ranked) < source.shape[2]:
        rest = work.total - float(work.channel_sums[ranked].sum())
        st.markdown(f"The other {source.shape[2] - len(ranked)} input maps (each its own window × weights, "
                    f"summed the same way) add **{rest:+.6f}**.")
    st.markdown(f"All {work.products.size:,} products: **{work.total:+.6f}**; plus the bias "
                f"{work.bias:+.6f} = {work.pre_activation:+.6f}; "
                f"{convolution.ACTIVATION_WORDS[work.activation]} → **{work.value:.6f}**, the value at "
                f"({row}, {col}) of map {filter_index}.")
    model_value = float(own[row, col, filter_index])
    gap = abs(model_value - work.value)
    check = (f"Check: the model's own `{worked_layer}` output at ({row}, {col}), map {filter_index} is "
             f"{model_value:.6f} (difference {gap:.1e}).")
    if gap <= convolution.AGREEMENT:
        st.success(check, icon=":material/check_circle:")
    else:
        st.error(f"{check} That is more than {convolution.AGREEMENT:.0e}: the arithmetic above misses "
                 "something this layer does.", icon=":material/error:")
