"""Layer visualizer: one image through a trained CNN, layer by layer, and where the network looked."""

import streamlit as st

from kmnist.charts import layers as layers_charts
from kmnist.data.classes import CLASSES
from kmnist.data.pixels import upscale
from kmnist.inspect import gradcam, probes
from kmnist.inspect import grids as grids_inspect
from kmnist.inspect import worked as worked_inspect
from kmnist.network import layers as layers_net
from kmnist.pictures import map_grids
from kmnist.ui import keys
from kmnist.ui.figures import shared_figure
from kmnist.ui.keras_state import keras_imported, wait_for_keras
from kmnist.ui.layer_input import choose_input
from kmnist.ui.layers_view import (
    DENSE,
    FEATURE_MAPS,
    FILTERS,
    GRAD_CAM,
    VIEW_KEY,
    VIEW_WIDGETS,
    VIEWS,
    WORKED,
    convolution_worked_out,
    input_and_prediction,
    network_at_a_glance,
)
from kmnist.ui.model_card import model_card
from kmnist.ui.navigation import LAYERS, page_header
from kmnist.ui.resources import get_classifier, get_data, get_model, model_picker, provenance_note
from kmnist.ui.sections import open_section

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
    # opens on the model whose answer was on screen where an image or drawing was sent from
    wanted = st.session_state.pop(keys.LAYERS_MODEL_WANTED, None)
    entry = model_picker("Model", key=keys.LAYERS_MODEL, wanted=wanted)
if entry is None:
    st.stop()
model_card(entry)
with pick_source:
    chosen = choose_input(data)
if not keras_imported():  # opened soon after the server started: the prediction now, the rest with Keras
    classifier = get_classifier(entry)  # ONNX Runtime on the model's twin
    if classifier is None:
        st.stop()
    input_and_prediction(entry, data, chosen, classifier.probabilities(chosen.image)[0])
    wait_for_keras("the layer-by-layer views")
    st.stop()
model = get_model(entry)
if model is None:
    st.stop()
image = chosen.image
outputs = probes.layer_outputs(model, image)
probabilities = list(outputs.values())[-1]
best = CLASSES[int(probabilities.argmax())]
input_and_prediction(entry, data, chosen, probabilities)

# -- The network at a glance ------------------------------------------------------------------------------
st.header("The network at a glance")
network_at_a_glance(model, image, outputs, probabilities)
spatial = layers_net.spatial_layers(model)

# -- Architecture -----------------------------------------------------------------------------------------
st.header("Architecture")
table = probes.architecture_table(model)
names = 9 * max(len(row["layer"]) for row in table) + 30  # px: ~9 a character and the cell's padding
st.dataframe(table, hide_index=True, height=35 * (len(table) + 1) + 3,  # every row in view, no scrolling
             column_config={"layer": st.column_config.TextColumn(width=names),  # every name in full
                            "parameters": st.column_config.NumberColumn(format="localized")})
st.caption(f"{len(table)} layers, {model.count_params():,} parameters in all. Output shape: height × width × "
           "maps for image-like layers, units for vectors.")

# -- One section at a time (tabs): only the open one is computed and drawn ----------------------------
FULL, HALF = 1000, 490  # about the pixels a full-width and a half-width chart get at 1400 px: grids fit them
convs = [layer.name for layer in spatial if layer.type == "Conv2D"]


def feature_maps() -> None:
    """The maps of every conv and pooling layer for this input, two by two, as pictures (as Plotly
    heatmaps, these six took the browser about a second to draw on every visit)."""
    st.markdown("Each small square is one map: bright where its filter found its pattern in *this* input. "
                "Maps get smaller and more abstract with depth; each is stretched to its own range, from "
                "dark purple (its lowest value) to yellow (its highest). Conv layers are shown after their "
                "ReLU, so a map is zero wherever its pattern is absent. Maps are numbered from 0, eight to "
                "a row: to read one map's values, enlarge it above (its layer and number).")
    for start in range(0, len(spatial), 2):
        for column, layer in zip(st.columns(2), spatial[start:start + 2], strict=False):
            maps = outputs[layer.output]
            title = f"{layer.caption}: {maps.shape[2]} maps of {maps.shape[0]}×{maps.shape[1]}"
            with column.container(key=f"maps_{layer.name}"):
                st.image(map_grids.grid_picture(grids_inspect.feature_grid(maps, 8), HALF), caption=title,
                         alt=f"{title}, eight to a row, each from dark purple (its lowest value) to yellow "
                             "(its highest)")


def conv_filters() -> None:
    """The learnt filters of a chosen conv layer."""
    filters_of = st.selectbox("Conv layer", convs, key="filters_layer", help="Deeper filters see many input "
                              "maps; each tile shows the one it weighs most.")
    views, strongest_input = probes.filter_views(model, filters_of)
    kernels = views.transpose(1, 2, 0)  # (k, k, filters)
    reads = worked_inspect.conv_layer(model, filters_of)
    title = (f"{filters_of}: {kernels.shape[2]} filters of {kernels.shape[0]}×{kernels.shape[1]} "
             "(red: positive weight, blue: negative)")
    grid = grids_inspect.feature_grid(kernels, columns=16, normalize="none")
    channels = grids_inspect.grid_channels(kernels.shape, 16)
    st.plotly_chart(shared_figure(layers_charts.map_grid_figure, grid, channels,
                                  title, colorscale="RdBu_r", zmid=0.0, fit=(grid.shape, FULL)),
                    key="filters_grid")
    if reads.input is None:
        st.caption(f"`{filters_of}` reads the pixels themselves, so each filter is a small edge or stroke "
                   "detector: red weights want ink, blue weights want background.")
    else:
        st.caption(f"`{filters_of}` reads the {reads.kernel.shape[2]} maps of `{reads.input}`, not pixels: "
                   "each tile is a filter's weights on the one input map it weighs most (sum of |weights|), "
                   "so its red cells want that earlier pattern, its blue cells want it absent.")


def worked_convolution() -> None:
    """One output value of a conv layer, computed product by product."""
    convolution_worked_out(model, image, outputs, convs)


def dense_layers() -> None:
    """The activations of the dense layers' units."""
    for layer in layers_net.dense_layers(model):
        values = outputs[layer.output]
        title = f"{layer.caption}: {int((values > 0).sum())} of {len(values)} units active"
        st.plotly_chart(shared_figure(layers_charts.activation_bars, values, title),
                        key=f"dense_{layer.name}")
    st.caption("Flatten feeds every value of the last maps to the dense units; their activations feed the "
               "softmax above. Dropout is off here, as always when a trained model predicts.")


def grad_cam() -> None:
    """Where the evidence for a class lies in the input (Grad-CAM)."""
    st.markdown("**Grad-CAM** weighs each map of a conv layer (by default the last) by how much it raises "
                "a class's score (its gradient) and adds them up: the warmer the tint, from dark red through "
                "red to yellow, the more evidence *for* that class lies there; where the input keeps its "
                "grey, none.")
    options = [None, *range(len(CLASSES))]
    explain, weigh = st.columns(2)
    choice = explain.selectbox("Explain class", options, key="cam_class",
                               format_func=lambda c: f"the predicted class ({best.label})" if c is None
                               else CLASSES[c].label)
    cam_layers = gradcam.grad_cam_layers(model)
    if st.session_state.get("cam_layer") not in cam_layers:  # at first, or another model's: the last
        st.session_state["cam_layer"] = cam_layers[-1]
    cam_layer = weigh.selectbox("Conv layer weighed", cam_layers, key="cam_layer")
    cam_side = outputs[cam_layers[-1]].shape
    weigh.caption(f"The last conv layer's maps are only {cam_side[0]}×{cam_side[1]} (each conv trims a "
                  "border, each pooling halves them), so its Grad-CAM is coarse; an earlier layer gives a "
                  "finer map that knows less about the class.")
    cam = gradcam.grad_cam_details(model, image, choice, cam_layer)
    label = CLASSES[cam.class_index].label
    left, middle, right = st.columns([1, 1, 2])
    left.image(upscale(gradcam.overlay(image, cam.heatmap), 6), output_format="PNG",
               alt=f"The input image tinted by Grad-CAM of {cam.layer}: red to yellow where it is evidence "
                   f"for {label}",
               caption=f"Grad-CAM for {label} on the input: tinted red to yellow where the evidence lies")
    middle.plotly_chart(shared_figure(layers_charts.grad_cam_heatmap, cam.heatmap, "heatmap alone",
                                      height=260), key="cam_heatmap")
    middle.caption(f"The heatmap alone (28×28): black for no evidence for {label}, through red, to yellow "
                   "for the most, as the bar beside it shows.")
    right.markdown(f"Class **{label}**: probability {cam.probability:.1%}.  \n"
                   f"Layer weighed: `{cam.layer}`.")
    if cam.method == "saliency":
        right.info("Grad-CAM found no positive evidence for this class anywhere, so this is a saliency map "
                   "instead: how strongly each input pixel would change the class score.")
    elif cam.heatmap.max() == 0:
        right.info("Nothing in the image pushes this class up.")
    else:
        cell = 28 / outputs[cam.layer].shape[0]
        right.caption(f"Heat on empty paper: each cell of `{cam.layer}`'s maps, stretched here to 28×28, "
                      f"tints a patch about {cell:.1f} pixels wide and sees a wider patch of the input "
                      "still, so the heat spreads over regions, past the strokes. It can also be real "
                      "evidence: blank paper where other kana have ink tells them apart, so the model may "
                      "use the absence of ink there.")

SECTIONS = {FEATURE_MAPS: feature_maps, FILTERS: conv_filters, WORKED: worked_convolution,
            DENSE: dense_layers, GRAD_CAM: grad_cam}
view, section = open_section(list(VIEWS), VIEW_KEY, keep=VIEW_WIDGETS)
with section:
    SECTIONS[view]()
