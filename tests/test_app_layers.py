"""AppTest of the Layer visualizer: renders on real data, controls change what is shown, drawings are used."""

import json
import re
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from kmnist import inspection, store
from kmnist.classes import CLASSES
from kmnist.images import to_float
from kmnist.ui import keys

PAGE = str(Path(__file__).resolve().parent.parent / "pages" / "layers.py")


@pytest.fixture
def page(models_copy, kmnist_data):
    return AppTest.from_file(PAGE, default_timeout=120).run()


def prediction(at) -> str:
    return next(m.value for m in at.markdown if m.value.startswith("**Prediction:"))



def test_renders_every_section(page):
    assert not page.exception
    intro = page.markdown[0].value
    for concept in ("Conv2D", "pooling", "Flatten", "dense", "dropout", "softmax"):
        assert concept in intro
    assert [h.value for h in page.header] == ["Input and prediction", "Architecture", "Conv filters",
                                              "Feature maps", "Dense layers and softmax",
                                              "Where did it look? (Grad-CAM)"]
    assert re.match(r"\*\*Prediction: \S \(\w+\) \d+%\*\*", prediction(page))
    assert any("NOT the official" in c.value for c in page.caption)  # data provenance shown
    table = page.dataframe[0].value
    assert {"layer", "type", "output_shape", "parameters", "what it does"} <= set(table.columns)
    assert "Conv2D" in set(table["type"]) and "Dense" in set(table["type"])
    charts = page.get("plotly_chart")
    # softmax + filters + one grid per conv/pooling layer (studio: 6) + dense activations
    assert len(charts) == 1 + 1 + 6 + 1
    softmax = json.loads(charts[0].proto.spec)["data"][0]
    assert softmax["x"] == [k.label for k in CLASSES]
    assert sum(softmax["y"]) == pytest.approx(1.0, abs=1e-4)
    assert len(page.get("image")) >= 3  # the input, the Grad-CAM overlay and the heatmap


def test_changing_the_image_changes_maps_and_prediction(page):
    before = [e.proto.spec for e in page.get("plotly_chart")]
    page.selectbox(key="layers_class").set_value(CLASSES[3]).run()
    assert not page.exception
    after = [e.proto.spec for e in page.get("plotly_chart")]
    assert after[0] != before[0]     # softmax output
    assert after[1] == before[1]     # the filters belong to the model, not the image
    assert all(a != b for a, b in zip(after[2:8], before[2:8], strict=True))  # every feature-map grid
    assert "(true: つ" in prediction(page) or "correct" in prediction(page)
    maps = page.get("plotly_chart")[2].proto.spec
    page.number_input(key="layers_index").set_value(7).run()
    assert not page.exception and page.get("plotly_chart")[2].proto.spec != maps


def test_filters_layer_and_grad_cam_class(page, models_copy, kmnist_data):
    filters = page.get("plotly_chart")[1].proto.spec
    layers = page.selectbox(key="filters_layer").options
    assert len(layers) == 4  # studio: conv1, conv2, conv3, conv4
    page.selectbox(key="filters_layer").set_value(layers[-1]).run()
    assert not page.exception and page.get("plotly_chart")[1].proto.spec != filters
    assert "64 filters" in json.loads(page.get("plotly_chart")[1].proto.spec)["layout"]["title"]["text"]
    cam = page.get("image")[1].proto.imgs[0]
    predicted = next(k for k in CLASSES if prediction(page).startswith(f"**Prediction: {k.char} "))
    # A class other than the predicted one whose Grad-CAM shows something else: the page must redraw it.
    model = store.load_model(models_copy / "studio-max.keras")
    image = to_float(kmnist_data.x_test[np.flatnonzero(kmnist_data.y_test == 0)[0]])  # the page's first image
    mine = inspection.grad_cam_details(model, image).heatmap
    other = next(c for c in range(len(CLASSES)) if c != predicted.index
                 and not np.allclose(inspection.grad_cam_details(model, image, c).heatmap, mine, atol=0.05))
    page.selectbox(key="cam_class").set_value(other).run()
    assert not page.exception
    assert any(f"Class **{CLASSES[other].label}**" in m.value for m in page.markdown)
    now = page.get("image")[1].proto.imgs[0]
    assert now.caption == f"Grad-CAM for {CLASSES[other].label} on the input" != cam.caption
    assert now.url != cam.url


def test_the_sketch_pad_drawing_is_the_input(models_copy, kmnist_data):
    at = AppTest.from_file(PAGE, default_timeout=120)
    drawing = np.zeros((28, 28), "float32")
    drawing[4:24, 12:16] = 1.0
    drawing[8:11, 4:24] = 1.0  # a cross, like +
    at.session_state[keys.LAST_DRAWING] = drawing
    at.run()
    assert not at.exception
    assert at.radio(key="layers_source").value == "My drawing (Sketch pad)"
    assert not [s for s in at.selectbox if s.key == "layers_class"]  # no test-image picker now
    assert "correct" not in prediction(at)                           # a drawing has no true class
    mine = at.get("plotly_chart")[0].proto.spec
    at.radio(key="layers_source").set_value("Test image").run()
    assert not at.exception and at.get("plotly_chart")[0].proto.spec != mine


def test_without_models_the_page_says_what_to_do(tmp_path, monkeypatch, kmnist_data):
    monkeypatch.setenv("KMNIST_MODELS", str(tmp_path))
    at = AppTest.from_file(PAGE, default_timeout=120).run()
    assert not at.exception
    assert "No trained model yet" in at.warning[0].value
