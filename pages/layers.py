"""Layer visualizer: one image through a trained CNN, layer by layer, and where the network looked."""

import streamlit as st

from kmnist import charts, explore, inspection
from kmnist.classes import CLASSES
from kmnist.images import to_float, to_uint8, upscale
from kmnist.ui import keys
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
sources = ["Test image", "My drawing (Sketch pad)"] if drawing is not None else ["Test image"]
with pick_source:
    source = st.radio("Input", sources, index=len(sources) - 1, horizontal=True, key=keys.LAYERS_SOURCE,
                      help="Draw a character on the Sketch pad and press *Look inside* to study it here.")
    if source == "Test image":
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

outputs = inspection.layer_outputs(model, image)
probabilities = list(outputs.values())[-1]
predicted = int(probabilities.argmax())
best = CLASSES[predicted]

# -- Input and prediction ---------------------------------------------------------------------------------
st.header("Input and prediction")
shown, bars = st.columns([1, 3])
shown.image(upscale(to_uint8(image), 6), caption=caption, output_format="PNG")
verdict = "" if truth is None else (" ✅ correct" if predicted == truth else
                                    f" ❌ wrong (true: {CLASSES[truth].char} ({CLASSES[truth].romaji}))")
shown.markdown(f"**Prediction: {best.char} ({best.romaji}) {probabilities[predicted]:.0%}**{verdict}")
bars.plotly_chart(charts.probability_bars(probabilities, "Softmax output: probability per class",
                                          highlight=truth), key="softmax_bars")

# -- Architecture -----------------------------------------------------------------------------------------
st.header("Architecture")
table = inspection.architecture_table(model)
st.dataframe(table, hide_index=True, column_config={"parameters": st.column_config.NumberColumn(format="%d")})
st.caption(f"{len(table)} layers, {model.count_params():,} parameters in all. Output shape: height × width × "
           "maps for image-like layers, units for vectors.")

# -- Filters ----------------------------------------------------------------------------------------------
st.header("Conv filters")
convs = [layer.name for layer in inspection.spatial_layers(model) if layer.type == "Conv2D"]
conv = st.selectbox("Conv layer", convs, key="filters_layer",
                    help="Deeper layers see many input maps; each filter is shown as its mean over them.")
kernels = inspection.conv_filters(model, conv).transpose(1, 2, 0)  # (k, k, filters)
title = (f"{conv}: {kernels.shape[2]} filters of {kernels.shape[0]}×{kernels.shape[1]} "
         "(red: positive weight, blue: negative)")
st.plotly_chart(charts.map_grid_figure(inspection.feature_grid(kernels, columns=16, normalize="none"),
                                       inspection.grid_channels(kernels.shape, 16), title,
                                       colorscale="RdBu_r", zmid=0.0),
                key="filters_grid")
st.caption("A filter responds where the input looks like it: red weights want ink, blue weights want "
           "background. First-layer filters are edge and stroke detectors.")

# -- Feature maps -----------------------------------------------------------------------------------------
st.header("Feature maps")
st.markdown("Each small square is one map: bright where its filter found its pattern in *this* input. "
            "Maps get smaller and more abstract with depth; each is stretched to its own range. Conv "
            "layers are shown after their ReLU, so a map is zero wherever its pattern is absent.")
spatial = inspection.spatial_layers(model)
for start in range(0, len(spatial), 2):
    for column, layer in zip(st.columns(2), spatial[start:start + 2], strict=False):
        maps = outputs[layer.output]
        title = f"{layer.caption}: {maps.shape[2]} maps of {maps.shape[0]}×{maps.shape[1]}"
        column.plotly_chart(charts.map_grid_figure(inspection.feature_grid(maps, 8),
                                                   inspection.grid_channels(maps.shape, 8), title),
                            key=f"maps_{layer.name}")

# -- Dense ------------------------------------------------------------------------------------------------
st.header("Dense layers and softmax")
dense = inspection.dense_layers(model)
for layer in dense:
    values = outputs[layer.output]
    title = f"{layer.caption}: {int((values > 0).sum())} of {len(values)} units active"
    st.plotly_chart(charts.activation_bars(values, title), key=f"dense_{layer.name}")
st.caption("Flatten feeds every value of the last maps to the dense units; their activations feed the "
           "softmax above. Dropout is off here, as always when a trained model predicts.")

# -- Grad-CAM ---------------------------------------------------------------------------------------------
st.header("Where did it look? (Grad-CAM)")
st.markdown("**Grad-CAM** weighs each map of the last conv layer by how much it raises a class's score "
            "(its gradient) and adds them up: red areas are evidence *for* that class.")
options = [None, *range(len(CLASSES))]
choice = st.selectbox("Explain class", options, key="cam_class",
                      format_func=lambda c: f"the predicted class ({best.label})" if c is None
                      else CLASSES[c].label)
cam = inspection.grad_cam_details(model, image, choice)
left, middle, right = st.columns([1, 1, 2])
left.image(upscale(inspection.overlay(image, cam.heatmap), 6),
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
