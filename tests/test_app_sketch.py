"""AppTest of the Sketch pad: blank hint, controls, and (with a drawing fed in) the live prediction."""

import gzip
import hashlib
import json
import re
import sys
import types
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from kmnist import drawing
from kmnist.charts.style import ACCENT
from kmnist.registry import store
from kmnist.ui import keys
from kmnist.ui.component_protocol import class_names
from kmnist.ui.sketch_pad import component
from kmnist.ui.sketch_pad.component import BROWSER, SERVER

ROOT = Path(__file__).resolve().parent.parent
PAGE, APP = str(ROOT / "pages" / "sketch.py"), str(ROOT / "app.py")


@pytest.fixture
def page(models_copy, kmnist_data):
    return AppTest.from_file(PAGE, default_timeout=120).run()


@pytest.fixture
def server_page(page):
    """The page with "On the server" chosen: the drawable canvas, classified by the server."""
    page.segmented_control(key="sketch_where").set_value(SERVER).run()
    return page


def test_the_pad_runs_in_the_browser_by_default(page, models_copy):
    assert not page.exception
    assert "softmax" in page.markdown[0].value and "28x28" in page.markdown[0].value
    assert page.segmented_control(key="sketch_where").value == BROWSER
    assert page.selectbox(key="sketch_model").value.name == "studio-max"  # the default model first
    assert not [i for i in page.info if "Classified on the server" in i.value]
    pad = next(element.proto for element in page.get("component_instance")
               if element.proto.component_name.endswith("sketch_pad"))
    model = json.loads(pad.json_args)["model"]
    twin = models_copy / "studio-max.onnx"
    assert model["name"] == "studio-max" and model["sha256"] == hashlib.sha256(twin.read_bytes()).hexdigest()
    served = component.ASSETS / model["url"]  # the twin, gzipped once, under its sha256
    assert gzip.decompress(served.read_bytes()) == twin.read_bytes()
    assert model["outputs"] == ["probabilities", "first_conv", "first_pool"]
    args = json.loads(pad.json_args)  # the pad's sizes, brush, thresholds and messages: kmnist.drawing's
    assert args["drawing"] == drawing.pad_facts() and args["classes"] == class_names()
    # the pad draws conv1's 16 maps and pool1's 32: the caption names the convolution in between
    assert args["captions"]["pool"].startswith("A second convolution, not drawn here, first turns the 16 "
                                               "maps above into 32; then max pooling keeps the largest")
    assert any("NOT the official" in c.value for c in page.caption)      # example glyphs' provenance
    captions = [image.proto.imgs[0].caption for image in page.get("image")]
    assert "Five test images of each class" in captions


def test_the_pooling_caption_names_a_convolution_between_the_maps_only_where_there_is_one():
    assert component.pooling_caption("avg", (32, 32)).startswith(
        "Average pooling keeps the mean of each 2x2 window")


def test_the_server_classifies_when_chosen_and_shows_the_blank_hint(server_page):
    page = server_page
    assert not page.exception
    assert any(i.value.startswith("Classified on the server by ONNX Runtime: as you chose")
               for i in page.info)
    assert any("Nothing to classify yet" in i.value for i in page.info)
    assert not [m for m in page.markdown if "Prediction:" in m.value]
    assert page.button(key="send_to_layers").disabled
    assert page.slider(key="brush").value == 18


def test_the_server_classifies_when_the_browser_cannot(models_copy, kmnist_data):
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.session_state[keys.BROWSER_FAILED] = "this browser has no WebAssembly"
    at.run()
    assert not at.exception
    assert any("the model cannot run in this browser (this browser has no WebAssembly)" in i.value
               for i in at.info)
    assert at.slider(key="brush").value == 18  # the drawable canvas' controls: the server path


def test_a_model_without_a_valid_twin_is_classified_by_keras_on_the_server(models_copy, kmnist_data):
    (models_copy / "studio-max.onnx").write_bytes(b"not a model")
    at = AppTest.from_file(PAGE, default_timeout=120).run()
    assert not at.exception
    assert at.segmented_control(key="sketch_where").value == SERVER
    reason = next(i.value for i in at.info if "Classified on the server" in i.value)
    assert reason.startswith("Classified on the server by Keras: studio-max.onnx does not match the card")
    assert "python -m kmnist export" in reason


def test_clear_gives_a_fresh_canvas(server_page):
    page = server_page
    assert "canvas_round" not in page.session_state
    page.button(key="clear_canvas").click().run()
    assert not page.exception and page.session_state["canvas_round"] == 1
    page.button(key="clear_canvas").click().run()
    assert page.session_state["canvas_round"] == 2


def test_look_inside_from_the_pad_opens_the_layer_visualizer_on_its_drawing(models_copy, kmnist_data):
    """The pad's Look inside message (as its on_change callback receives it) -> the Layer visualizer."""
    image = np.zeros((28, 28), "float32")
    image[4:24, 12:16] = 1.0
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.switch_page("pages/sketch.py").run()
    avg = next(entry for entry in store.list_models() if entry.name == "studio-avg")
    at.selectbox(key="sketch_model").set_value(avg).run()  # not the default model: it hid a bug
    at.session_state[component.KEY] = {"event": "look_inside", "image": image.ravel().tolist()}
    at.session_state[keys.LOOK_INSIDE] = image  # what component._received sets before the rerun
    at.run()
    assert not at.exception
    assert at.radio(key="layers_source").value == "My drawing (Sketch pad)"
    assert at.selectbox(key=keys.LAYERS_MODEL).value.name == "studio-avg"  # the pad's model, not the default
    np.testing.assert_array_equal(at.session_state[keys.LAST_DRAWING], image)
    assert keys.LOOK_INSIDE not in at.session_state


def test_the_pads_messages_are_handled(monkeypatch):
    state = {component.KEY: {"event": "look_inside", "image": [0.5] * 784}, keys.LAYERS_SOURCE: "x"}
    monkeypatch.setattr(component.st, "session_state", state)
    component._received()
    assert state[keys.LOOK_INSIDE].shape == (28, 28) and state[keys.LOOK_INSIDE].dtype == np.float32
    assert keys.LAST_DRAWING not in state  # the rerun opens the Layer visualizer on it (open_in_layers)
    state[component.KEY] = {"event": "fallback", "reason": "this browser has no WebAssembly"}
    component._received()
    assert state[keys.BROWSER_FAILED] == "this browser has no WebAssembly"


def fake_canvas(monkeypatch, image: np.ndarray) -> list[dict]:
    """Replace streamlit_drawable_canvas by a stand-in whose st_canvas returns `image` as the drawing
    (AppTest cannot draw; the real canvas is driven in the browser tests). Returns the calls' kwargs."""
    calls = []

    def st_canvas(**kwargs):
        calls.append(kwargs)
        return types.SimpleNamespace(json_data={"objects": []}, image_data=image)

    monkeypatch.setitem(sys.modules, "streamlit_drawable_canvas", types.SimpleNamespace(st_canvas=st_canvas))
    return calls


def real_glyph_on_canvas(kmnist_data, position: int) -> np.ndarray:
    """Test image `position` as a 280x280 white canvas with black ink, like the page's canvas."""
    glyph = Image.fromarray(kmnist_data.x_test[position])
    ink = np.asarray(glyph.resize((280, 280), Image.Resampling.BILINEAR))
    return np.repeat((255 - ink)[..., None], 3, axis=2).astype("uint8")


def test_a_drawing_is_classified_live_and_sent_to_the_layer_visualizer(models_copy, kmnist_data, monkeypatch):
    calls = fake_canvas(monkeypatch, real_glyph_on_canvas(kmnist_data, 0))
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.switch_page("pages/sketch.py").run()
    avg = next(entry for entry in store.list_models() if entry.name == "studio-avg")
    at.selectbox(key="sketch_model").set_value(avg).run()  # not the default model: it hid a bug
    at.segmented_control(key="sketch_where").set_value(SERVER).run()
    assert not at.exception
    call = calls[-1]
    assert call["update_streamlit"] and call["return_image_data"] and call["stroke_width"] == 18
    assert call["width"] == call["height"] == 280
    text = next(m.value for m in at.markdown if "Prediction:" in m.value)
    assert re.fullmatch(r"### Prediction: \S \(\w+\) \d+%", text)
    assert not any("Nothing to classify yet" in i.value for i in at.info)
    top = [chart for chart in at.get("plotly_chart") if chart.key == "top_classes"]
    assert len(top) == 1
    model_input = next(i for i in at.get("image") if "model input" in i.proto.imgs[0].caption)
    assert model_input.proto.imgs[0].url.endswith(".png")
    # like the in-page pad: bars in the theme's colour, the first conv's 16 maps and first pooling's 32
    assert json.loads(top[0].proto.spec)["data"][0]["marker"]["color"] == ACCENT
    shapes = [m.value for m in at.markdown if m.value.startswith("**First ")]
    assert shapes == ["**First convolution** 16 maps of 26x26", "**First pooling** 32 maps of 12x12"]
    between = "A second convolution, not drawn here, first turns the 16 maps above into 32; then average"
    assert any(c.value.startswith(between) for c in at.caption)
    at.slider(key="brush").set_value(30).run()
    assert calls[-1]["stroke_width"] == 30
    assert not at.button(key="send_to_layers").disabled
    at.button(key="send_to_layers").click().run()
    assert not at.exception
    sent = at.session_state[keys.LAST_DRAWING]
    assert sent.shape == (28, 28) and sent.max() == pytest.approx(1.0)
    assert at.radio(key="layers_source").value == "My drawing (Sketch pad)"  # now on the Layer visualizer
    assert at.selectbox(key=keys.LAYERS_MODEL).value.name == "studio-avg"  # the pad's model, not the default
    assert any(m.value.startswith("**Prediction:") for m in at.markdown)


def test_an_unsure_or_dot_drawing_gets_a_hint(models_copy, kmnist_data, monkeypatch):
    dot = np.full((280, 280, 3), 255, "uint8")
    dot[100:112, 100:112] = 0
    fake_canvas(monkeypatch, dot)
    at = AppTest.from_file(PAGE, default_timeout=120).run()
    at.segmented_control(key="sketch_where").set_value(SERVER).run()
    assert not at.exception
    assert any("only a dot" in i.value for i in at.info)
    scribble = np.full((280, 280, 3), 255, "uint8")
    rng = np.random.default_rng(0)
    for _ in range(40):  # random short strokes all over: no character
        y, x = rng.integers(0, 260, 2)
        scribble[y:y + 20, x:x + 4] = 0
    fake_canvas(monkeypatch, scribble)
    at.run()
    assert not at.exception
    assert any("Prediction:" in m.value for m in at.markdown)
    probability = int(re.search(r"(\d+)%", next(m.value for m in at.markdown if "Prediction:" in m.value))[1])
    unsure = any("The model is unsure" in w.value for w in at.warning)
    assert unsure == (probability < 60)


def test_without_a_pointer_a_test_image_is_classified_and_opens_in_the_layer_visualizer(models_copy,
                                                                                        kmnist_data):
    """The pad's alternative to drawing (keyboard and screen-reader users), with a model that is not the
    default one."""
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.switch_page("pages/sketch.py").run()
    avg = next(entry for entry in store.list_models() if entry.name == "studio-avg")
    at.selectbox(key="sketch_model").set_value(avg).run()
    assert "pick_class" not in at.session_state  # nothing loaded or drawn until asked for
    at.toggle(key="pick_instead").set_value(True).run()
    at.selectbox(key="pick_class").set_value(4).run()
    at.number_input(key="pick_number").set_value(3).run()
    assert not at.exception
    position = int(np.flatnonzero(kmnist_data.y_test == 4)[2])  # the third な of the test set
    said = next(m.value for m in at.markdown if m.value.startswith("**Read as"))
    model = store.load_model(avg.path)
    best = int(np.argmax(model.predict(kmnist_data.x_test[position][None, ..., None] / 255.0, verbose=0)))
    assert f"test image #{position} is {drawing.CLASSES[4].name}" in said
    assert said.startswith(f"**Read as {drawing.CLASSES[best].name}")
    assert any(image.proto.imgs[0].alt == f"test image #{position}, a handwritten {drawing.CLASSES[4].label}"
               for image in at.get("image") if image.proto.imgs)
    at.button(key="picked_to_layers").click().run()
    assert not at.exception
    assert at.radio(key="layers_source").value == "Picked test image"
    assert at.selectbox(key=keys.LAYERS_MODEL).value.name == "studio-avg"
    np.testing.assert_allclose(at.session_state[keys.INSPECT_IMAGE]["image"],
                               kmnist_data.x_test[position] / 255.0)
