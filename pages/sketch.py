"""Sketch pad: draw a hiragana character and watch a trained CNN classify it as you draw."""

import streamlit as st
from streamlit_drawable_canvas import st_canvas

from kmnist import drawing
from kmnist.charts import layers as layers_charts
from kmnist.data import explore
from kmnist.data.classes import ALL_LABELS, CLASSES
from kmnist.data.files import data_key
from kmnist.data.pixels import to_uint8, upscale
from kmnist.pictures import compose as pictures
from kmnist.ui.model_card import model_card
from kmnist.ui.navigation import SKETCH, open_in_layers, page_header
from kmnist.ui.resources import get_classifier, get_data, get_model, model_picker, provenance_note
from kmnist.ui.sketch_pad import server_maps
from kmnist.ui.sketch_pad.component import BROWSER, SERVER, browser_twin, sketch_pad

page_header(SKETCH)
st.markdown(
    "Draw one of the ten hiragana below with the mouse (or a finger). Your drawing is turned into what the "
    "network was trained on, a **28x28 white-on-black image** cropped to the ink, centred and with strokes "
    "of KMNIST's weight, and the **softmax** output of the CNN updates as you draw.")


@st.cache_data(show_spinner=False)
def example_sheet(_labels, _images, key: str, per_class: int = 5, seed: int = 0):
    """A few real test images of every class, one row per class, composed into one picture.
    Keyed by the data's kmnist.data.files.data_key, so no rerun hashes the 2,000 test images again."""
    return pictures.class_rows_picture(_images, explore.class_examples(_labels, per_class, seed), scale=2)


def clear_canvas():
    st.session_state.canvas_round = st.session_state.get("canvas_round", 0) + 1


pick, card = st.columns([1, 2])
with pick:
    entry = model_picker("Model", key="sketch_model")
if entry is None:
    st.stop()
with card:
    model_card(entry)
twin, why_not = browser_twin(entry)
where = st.segmented_control(
    "Where the model runs", [BROWSER, SERVER], key="sketch_where", default=BROWSER if twin else SERVER,
    help="In your browser, the model's ONNX twin answers on every move of the pen, with no request to "
         "the server; on the server, each finished stroke is sent and classified there.")


@st.fragment
def draw_and_classify(classifier) -> None:
    """The canvas and its live prediction. A fragment: each stroke reruns only this part of the page,
    which keeps the sketch pad responsive while other sessions draw or a model trains."""
    draw, result = st.columns([4, 3])
    with draw:
        st.subheader("Draw here")
        brush = st.slider("Brush width", drawing.BRUSH_MIN, drawing.BRUSH_MAX, drawing.BRUSH_DEFAULT,
                          key="brush",
                          help="The default gives strokes like KMNIST's when the character fills most of the "
                               "canvas; thinner or thicker strokes are adjusted before the model sees them.")
        st.space("medium")  # room for the canvas's own toolbar (undo, redo, delete), drawn above its top edge
        with st.container(key="sketch_canvas"):  # a stable CSS class (st-key-sketch_canvas) for browser tests
            canvas = st_canvas(stroke_width=brush, stroke_color="#000000", background_color="#ffffff",
                               height=drawing.CANVAS_SIZE, width=drawing.CANVAS_SIZE, drawing_mode="freedraw",
                               update_streamlit=True, return_image_data=True,
                               key=f"canvas_{st.session_state.get('canvas_round', 0)}")
        st.button("Clear the canvas", icon=":material/ink_eraser:", on_click=clear_canvas, key="clear_canvas")
        st.caption(drawing.FILL_HINT)

    prediction = None
    with result:
        st.subheader("What the model sees")
        image = canvas.image_data if canvas is not None else None
        try:
            if image is None:
                raise drawing.BlankDrawingError("empty")
            prediction = drawing.predict_drawing(classifier, image)
        except drawing.BlankDrawingError as error:
            st.info(drawing.NOTHING_YET.format(reason=error), icon=":material/edit:")
        if prediction is not None:
            best = prediction.top(1)[0]
            st.image(upscale(to_uint8(prediction.image), 6),
                     caption="the 28x28 model input (enlarged)",
                     alt="Your drawing as the model reads it: 28x28 greyscale pixels, white strokes on black",
                     output_format="PNG")
            st.markdown(f"### Prediction: {CLASSES[best['class']].name} {best['prob']:.0%}")
            if not prediction.confident:
                st.warning(drawing.UNSURE)
            st.plotly_chart(layers_charts.top_classes_bars(prediction.top(3)), key="top_classes")
        if st.button("Look inside", icon=":material/layers:", key="send_to_layers",
                     disabled=prediction is None,
                     help="Sends this drawing to the Layer visualizer: every layer's response to it."):
            open_in_layers(prediction.image, entry.name)
    if prediction is not None and (model := get_model(entry)) is not None:
        server_maps.first_maps(model, prediction.image)  # as the in-page pad draws them


@st.fragment
def classify_a_test_image() -> None:
    """The pad's alternative to drawing, for anyone who cannot draw (keyboard or screen-reader users): a
    test image of a chosen class, classified on the server by the same model, and Look inside."""
    data = get_data(stop=False)
    # A toggle, not an expander: an expander's content runs even while closed, and this loads a model
    if data is None or not st.toggle("Cannot draw? Classify a test image instead", key="pick_instead"):
        return
    with st.container(border=True):
        kind, number = st.columns(2)
        truth = kind.selectbox("Class", range(len(CLASSES)), format_func=lambda c: CLASSES[c].label,
                               key="pick_class")
        positions = explore.class_indices(data.y_test, [truth])
        index = number.number_input(f"Image (1 to {len(positions):,} of this class)", 1, len(positions),
                                    key="pick_number") - 1
        position = int(positions[index])
        classifier = get_classifier(entry)
        if classifier is None:
            return
        prediction = drawing.predict_image(classifier, data.x_test[position])
        best = prediction.top(1)[0]
        shown, said = st.columns([1, 3])
        shown.image(upscale(data.x_test[position], 4), output_format="PNG",
                    alt=f"test image #{position}, a handwritten {CLASSES[truth].label}")
        said.markdown(f"**Read as {CLASSES[best['class']].name}, {best['prob']:.0%}** "
                      f"({'right' if best['class'] == truth else 'wrong'}: test image #{position} is "
                      f"{CLASSES[truth].name})")
        said.plotly_chart(layers_charts.top_classes_bars(prediction.top(3)), key="picked_top_classes")
        if said.button("Look inside", icon=":material/layers:", key="picked_to_layers",
                       help="Follows this image through every layer of the model."):
            open_in_layers(prediction.image, entry.name, caption=f"test image #{position}", truth=truth,
                           position=position)


sketching, examples = st.columns([7, 3])
with sketching:
    if where != SERVER and twin is not None:
        sketch_pad(twin)
    else:
        classifier = get_classifier(entry)
        if classifier is None:
            st.stop()
        st.info(f"Classified on the server by {classifier.engine}: "
                + (why_not or "as you chose above (each finished stroke makes a round trip)") + ".",
                icon=":material/dns:")
        draw_and_classify(classifier)

classify_a_test_image()

with examples:
    st.subheader("What to draw")
    data = get_data(stop=False)
    if data is not None:
        st.image(example_sheet(data.y_test, data.x_test, data_key(data)),
                 caption="Five test images of each class",
                 alt="Ten rows of five handwritten test images, one row per class: "
                     + ALL_LABELS)
        provenance_note(data)
