"""Layer visualizer: one image through a trained CNN, layer by layer, and where the network looked."""

import streamlit as st

from kmnist.charts import layers as layers_charts
from kmnist.charts import style
from kmnist.data import explore
from kmnist.data.classes import CLASSES
from kmnist.data.pixels import to_float, to_uint8, upscale
from kmnist.inspect import convolution, gradcam, probes
from kmnist.inspect import grids as grids_inspect
from kmnist.inspect import worked as worked_inspect
from kmnist.inspect.pooling import clamp
from kmnist.network import layers as layers_net
from kmnist.ui import keys
from kmnist.ui.clicks import new_click
from kmnist.ui.jobs_view import model_card
from kmnist.ui.navigation import LAYERS, page_header
from kmnist.ui.resources import get_data, get_model, model_picker, provenance_note

page_header(LAYERS)
st.markdown(
    "A **Conv2D** layer slides small learnt filters over its input and gives one *feature map* per filter "
    "(where a stroke pattern occurs); **pooling** halves each map, keeping the strongest (max) or mean "
    "(average) response of every 2x2 window. **Flatten** lines the last maps up into one vector, a "
    "**dense** layer mixes all of it into learnt features, **dropout** (training only) silences random "
    "units so none is relied on alone, and **softmax** turns the last ten scores into class probabilities.")
data = get_data()
provenance_note(data)

# -- Model and input --------------------------------------------------------------------------------------
pick_model, pick_source = st.columns([1, 2])
with pick_model:
    entry = model_picker("Model", key="layers_model")
if entry is None:
    st.stop()
model_card(entry)
model = get_model(entry)
if model is None:
    st.stop()

drawing = st.session_state.get(keys.LAST_DRAWING)
sent = st.session_state.get(keys.INSPECT_IMAGE)
DRAWN, SENT = "My drawing (Sketch pad)", "Picked test image"
sources = ["Test image"] + [DRAWN] * (drawing is not None) + [SENT] * (sent is not None)
# The input sent last opens first: the picked image, unless the Sketch pad sent a drawing after it.
newest = (SENT if sent is not None and sent["drawing"] is drawing
          else DRAWN if drawing is not None else "Test image")
with pick_source:
    source = st.radio("Input", sources, index=sources.index(newest), horizontal=True, key=keys.LAYERS_SOURCE,
                      help="Draw a character on the Sketch pad and press *Look inside*, or open a test image "
                           "from a confusion-matrix cell (Compare runs, Training), to study it here.")
    if source == SENT:
        image, truth, caption = sent["image"], sent["truth"], sent["caption"]
        st.caption("Shown: the test image last opened from a confusion-matrix cell.")
    elif source == "Test image":
        by_class, by_index = st.columns(2)
        kana = by_class.selectbox("Class", CLASSES, format_func=lambda k: k.label, key="layers_class")
        members = explore.class_indices(data.y_test, [kana.index])
        number = by_index.number_input(f"Index within the class (0-{len(members) - 1})", 0,
                                       len(members) - 1, 0, key="layers_index")
        position = int(members[number])
        image, truth = to_float(data.x_test[position]), int(data.y_test[position])
        caption = f"test image #{position}, true class {CLASSES[truth].label}"
    else:
        image, truth = to_float(drawing), None
        caption = "your drawing, as the model sees it (28x28)"
        st.caption("Shown: the last drawing sent from the Sketch pad (draw another one there).")

outputs = probes.layer_outputs(model, image)
probabilities = list(outputs.values())[-1]
predicted = int(probabilities.argmax())
best = CLASSES[predicted]

# -- Input and prediction ---------------------------------------------------------------------------------
st.header("Input and prediction")
shown, bars = st.columns([1, 3])
shown.image(upscale(to_uint8(image), 6), caption=caption, output_format="PNG")
verdict = "" if truth is None else (" :green[:material/check_circle: correct]" if predicted == truth else
                                    f" :red[:material/cancel: wrong] (true: {CLASSES[truth].char} "
                                    f"({CLASSES[truth].romaji}))")
shown.markdown(f"**Prediction: {best.char} ({best.romaji}) {probabilities[predicted]:.0%}**{verdict}")
bars.plotly_chart(layers_charts.probability_bars(probabilities, "Softmax output: probability per class",
                                          highlight=truth), key="softmax_bars")

# -- The network at a glance ------------------------------------------------------------------------------
st.header("The network at a glance")
state = st.session_state
spatial = layers_net.spatial_layers(model)
SHOWN = 4  # maps per layer in the overview
stages = [("input", *grids_inspect.map_column(image[..., None], [0], SHOWN))]
for layer in spatial:
    maps = outputs[layer.output]
    stages.append((f"{layer.name} ({maps.shape[2]})",
                   *grids_inspect.map_column(maps, grids_inspect.strongest_maps(maps, SHOWN), SHOWN)))
hidden = layers_net.dense_layers(model)
last_hidden = outputs[hidden[-1].output] if hidden else None
dense_stage = (f"{hidden[-1].name} ({last_hidden.size})", last_hidden) if hidden else None
# A click on a map chooses it below (once per click, so the choosers stay free to change afterwards).
hit = new_click("overview")
if hit is not None and 0 < hit[0] <= len(spatial):
    state.overview_layer, state.overview_map = spatial[hit[0] - 1].name, hit[1]
st.plotly_chart(layers_charts.network_overview(stages, dense_stage, probabilities), key="overview",
                on_select="rerun", selection_mode="points")
st.caption(f"Left to right, the path of this input: each column shows a layer's {SHOWN} strongest maps "
           "(highest mean activation) from the top, then the dense units and the class probabilities. "
           "Click a map to enlarge it below with the filter that made it.")
names = [layer.name for layer in spatial]
chosen_layer, chosen_map = st.columns([1, 1])
picked = chosen_layer.selectbox("Layer", names, key="overview_layer")
shown_layer = spatial[names.index(picked)]
maps = outputs[shown_layer.output]
state.overview_map = clamp(state.get("overview_map"), maps.shape[2],
                           int(grids_inspect.strongest_maps(maps, 1)[0]))
channel = chosen_map.number_input(f"Map (0-{maps.shape[2] - 1})", 0, maps.shape[2] - 1, key="overview_map")
big, beside = st.columns([1, 1])
big.plotly_chart(layers_charts.feature_map(maps[..., channel], f"{shown_layer.caption}: map {channel} "
                                    f"({maps.shape[0]}×{maps.shape[1]})", height=420), key="overview_big")
with beside:
    if shown_layer.type == "Conv2D":
        conv = worked_inspect.conv_layer(model, shown_layer.name)
        strongest = convolution.strongest_inputs(conv.kernel)[channel][:4]
        source = conv.input or "the input image"
        st.markdown(f"**Filter {channel} of `{conv.name}`** on the {len(strongest)} of its "
                    f"{conv.kernel.shape[2]} input maps from `{source}` it weighs most")
        for column, input_channel in zip(st.columns(2) * 2, strongest, strict=False):  # two by two
            column.plotly_chart(layers_charts.value_grid(conv.kernel[:, :, input_channel, channel],
                                                  f"input map {input_channel}", colorscale="RdBu_r",
                                                  zmid=0.0, height=200),
                                key=f"overview_filter_{input_channel}")
        st.caption(f"Red weights want a high value in that input map, blue a low one; the map on the left "
                   f"is this filter's sum over all {conv.kernel.shape[2]} input maps, plus its bias "
                   f"({conv.bias[channel]:+.3f}), through ReLU.")
    else:
        source = spatial[names.index(picked) - 1]
        st.plotly_chart(layers_charts.feature_map(outputs[source.output][..., channel],
                                           f"{source.name}: map {channel}, which it pools", height=300),
                        key="overview_pooled")
        st.caption(f"A pooling layer has no filter: each value of map {channel} summarises a 2x2 window "
                   f"of `{source.name}`'s map {channel}, shown here.")

# -- Architecture -----------------------------------------------------------------------------------------
st.header("Architecture")
table = probes.architecture_table(model)
st.dataframe(table, hide_index=True, height=35 * (len(table) + 1) + 3,  # every row in view, no scrolling
             column_config={"parameters": st.column_config.NumberColumn(format="localized")})
st.caption(f"{len(table)} layers, {model.count_params():,} parameters in all. Output shape: height × width × "
           "maps for image-like layers, units for vectors.")

# -- Filters ----------------------------------------------------------------------------------------------
FULL, HALF = 1000, 490  # about the pixels a full-width and a half-width chart get at 1400 px: grids fit them
st.header("Conv filters")
convs = [layer.name for layer in spatial if layer.type == "Conv2D"]
filters_of = st.selectbox("Conv layer", convs, key="filters_layer",
                          help="Deeper filters see many input maps; each tile shows the one it weighs most.")
views, strongest_input = probes.filter_views(model, filters_of)
kernels = views.transpose(1, 2, 0)  # (k, k, filters)
reads = worked_inspect.conv_layer(model, filters_of)
title = (f"{filters_of}: {kernels.shape[2]} filters of {kernels.shape[0]}×{kernels.shape[1]} "
         "(red: positive weight, blue: negative)")
grid = grids_inspect.feature_grid(kernels, columns=16, normalize="none")
st.plotly_chart(style.fit_to_width(layers_charts.map_grid_figure(grid, grids_inspect.grid_channels(kernels.shape, 16),
                                                           title, colorscale="RdBu_r", zmid=0.0),
                                    grid.shape, FULL), key="filters_grid")
if reads.input is None:
    st.caption(f"`{filters_of}` reads the pixels themselves, so each filter is a small edge or stroke "
               "detector: red weights want ink, blue weights want background.")
else:
    st.caption(f"`{filters_of}` reads the {reads.kernel.shape[2]} maps of `{reads.input}`, not pixels: each "
               "tile is a filter's weights on the one input map it weighs most (sum of |weights|), so its "
               "red cells want that earlier pattern, its blue cells want it absent.")

# -- Feature maps -----------------------------------------------------------------------------------------
st.header("Feature maps")
st.markdown("Each small square is one map: bright where its filter found its pattern in *this* input. "
            "Maps get smaller and more abstract with depth; each is stretched to its own range. Conv "
            "layers are shown after their ReLU, so a map is zero wherever its pattern is absent.")
for start in range(0, len(spatial), 2):
    for column, layer in zip(st.columns(2), spatial[start:start + 2], strict=False):
        maps = outputs[layer.output]
        title = f"{layer.caption}: {maps.shape[2]} maps of {maps.shape[0]}×{maps.shape[1]}"
        grid = grids_inspect.feature_grid(maps, 8)
        column.plotly_chart(style.fit_to_width(layers_charts.map_grid_figure(
            grid, grids_inspect.grid_channels(maps.shape, 8), title), grid.shape, HALF),
                            key=f"maps_{layer.name}")

# -- One convolution, worked out --------------------------------------------------------------------------
st.header("One convolution, worked out")
pick_layer, pick_filter, pick_row, pick_col = st.columns(4)
worked_layer = pick_layer.selectbox("Conv layer", convs, key="conv_layer")
layer = worked_inspect.conv_layer(model, worked_layer)
own = outputs[worked_layer]  # the layer's own output, ReLU included
state.conv_filter = clamp(state.get("conv_filter"), own.shape[2], int(grids_inspect.strongest_maps(own, 1)[0]))
filter_index = pick_filter.number_input(f"Filter (0-{own.shape[2] - 1})", 0, own.shape[2] - 1,
                                        key="conv_filter")
if (hit := new_click("conv_map")) is not None:  # a click on the output map moves the window there
    state.conv_row, state.conv_col = hit
peak = grids_inspect.peak_position(own[..., filter_index])
state.conv_row = clamp(state.get("conv_row"), own.shape[0], peak[0])
state.conv_col = clamp(state.get("conv_col"), own.shape[1], peak[1])
row = pick_row.number_input(f"Row (0-{own.shape[0] - 1})", 0, own.shape[0] - 1, key="conv_row")
col = pick_col.number_input(f"Column (0-{own.shape[1] - 1})", 0, own.shape[1] - 1, key="conv_col")
worked = worked_inspect.worked_convolution(layer, outputs, image, row, col, filter_index)
source = worked_inspect.conv_input(layer, outputs, image)
size = layer.kernel.shape[0]
ranked = worked.strongest_channels(3)
source_name = layer.input or "input"
input_view, output_view = st.columns(2)
side = f"{source.shape[0]}×{source.shape[1]}"
input_title = (f"the input image ({side})" if layer.input is None else
               f"{source_name} map {ranked[0]} ({side}), the one contributing most")
input_view.plotly_chart(layers_charts.feature_map(source[..., ranked[0]], f"{worked_layer} reads {input_title}",
                                           highlight=(worked.top, worked.left, size), height=380),
                        key="conv_input")
output_view.plotly_chart(layers_charts.clickable_map(own[..., filter_index], f"{worked_layer} map {filter_index} "
                                            f"({own.shape[0]}×{own.shape[1]}): click a cell",
                                            highlight=(row, col, 1), height=380),
                         key="conv_map", on_select="rerun", selection_mode="points")
if layer.padding == "same":
    input_view.caption(f"'same' padding: the input gets a border of zeros so the map keeps its size; a "
                       f"window at the border reads those zeros ('pad 0' below; {int(worked.padded.sum())} "
                       "here).")
else:
    input_view.caption(f"'valid' padding: every {size}×{size} window lies inside the input, so the map is "
                       f"{size - 1} pixels smaller than its input ({source.shape[0]} → {own.shape[0]}).")
for channel in ranked:
    window, kernel, products, total = st.columns([3, 3, 3, 2])
    named = "the image" if layer.input is None else f"{source_name} map {channel}"
    window.plotly_chart(layers_charts.value_grid(worked.window[..., channel], f"window of {named}", worked.padded),
                        key=f"conv_window_{channel}")
    kernel.plotly_chart(layers_charts.value_grid(worked.kernel[..., channel], f"× filter {filter_index}'s weights",
                                          colorscale="RdBu_r", zmid=0.0), key=f"conv_kernel_{channel}")
    products.plotly_chart(layers_charts.value_grid(worked.products[..., channel], "= products", worked.padded,
                                            colorscale="RdBu_r", zmid=0.0), key=f"conv_products_{channel}")
    total.markdown(f"Sum of these {size * size} products: **{worked.channel_sums[channel]:+.6f}**")
if len(ranked) < source.shape[2]:
    rest = worked.total - float(worked.channel_sums[ranked].sum())
    st.markdown(f"The other {source.shape[2] - len(ranked)} input maps (each its own window × weights, "
                f"summed the same way) add **{rest:+.6f}**.")
st.markdown(f"All {worked.products.size:,} products: **{worked.total:+.6f}**; plus the bias "
            f"{worked.bias:+.6f} = {worked.pre_activation:+.6f}; "
            f"{convolution.ACTIVATION_WORDS[worked.activation]} → **{worked.value:.6f}**, the value at "
            f"({row}, {col}) of map {filter_index}.")
model_value = float(own[row, col, filter_index])
gap = abs(model_value - worked.value)
check = (f"Check: the model's own `{worked_layer}` output at ({row}, {col}), map {filter_index} is "
         f"{model_value:.6f} (difference {gap:.1e}).")
if gap <= convolution.AGREEMENT:
    st.success(check, icon=":material/check_circle:")
else:
    st.error(f"{check} That is more than {convolution.AGREEMENT:.0e}: the arithmetic above misses "
             "something this layer does.", icon=":material/error:")

# -- Dense ------------------------------------------------------------------------------------------------
st.header("Dense layers and softmax")
dense = layers_net.dense_layers(model)
for layer in dense:
    values = outputs[layer.output]
    title = f"{layer.caption}: {int((values > 0).sum())} of {len(values)} units active"
    st.plotly_chart(layers_charts.activation_bars(values, title), key=f"dense_{layer.name}")
st.caption("Flatten feeds every value of the last maps to the dense units; their activations feed the "
           "softmax above. Dropout is off here, as always when a trained model predicts.")

# -- Grad-CAM ---------------------------------------------------------------------------------------------
st.header("Where did it look? (Grad-CAM)")
st.markdown("**Grad-CAM** weighs each map of a conv layer (by default the last) by how much it raises a "
            "class's score (its gradient) and adds them up: red areas are evidence *for* that class.")
options = [None, *range(len(CLASSES))]
explain, weigh = st.columns(2)
choice = explain.selectbox("Explain class", options, key="cam_class",
                           format_func=lambda c: f"the predicted class ({best.label})" if c is None
                           else CLASSES[c].label)
cam_layers = gradcam.grad_cam_layers(model)
cam_layer = weigh.selectbox("Conv layer weighed", cam_layers, index=len(cam_layers) - 1, key="cam_layer")
cam_side = outputs[cam_layers[-1]].shape
weigh.caption(f"The last conv layer's maps are only {cam_side[0]}×{cam_side[1]} (each conv trims a border, "
              "each pooling halves them), so its Grad-CAM is coarse; an earlier layer gives a finer map that "
              "knows less about the class.")
cam = gradcam.grad_cam_details(model, image, choice, cam_layer)
left, middle, right = st.columns([1, 1, 2])
left.image(upscale(gradcam.overlay(image, cam.heatmap), 6),
           caption=f"Grad-CAM for {CLASSES[cam.class_index].label} on the input", output_format="PNG")
middle.image(upscale(to_uint8(cam.heatmap), 6), caption="heatmap alone",
             output_format="PNG")
right.markdown(f"Class **{CLASSES[cam.class_index].label}**: probability {cam.probability:.1%}.  \n"
               f"Layer weighed: `{cam.layer}`.")
if cam.method == "saliency":
    right.info("Grad-CAM found no positive evidence for this class anywhere, so this is a saliency map "
               "instead: how strongly each input pixel would change the class score.")
elif cam.heatmap.max() == 0:
    right.info("Nothing in the image pushes this class up.")
