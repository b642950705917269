"""AppTest of the Layer visualizer: renders on real data, controls change what is shown, drawings are used."""

import base64
import json
import re
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from kmnist.charts import clicks
from kmnist.data.classes import CLASSES
from kmnist.data.pixels import to_float
from kmnist.inspect import gradcam, probes
from kmnist.registry import store
from kmnist.ui import keys
from kmnist.ui.layers_view import DENSE, FEATURE_MAPS, FILTERS, GRAD_CAM, VIEW_KEY, VIEWS, WORKED
from tests.conftest import open_tab

PAGE = str(Path(__file__).resolve().parent.parent / "pages" / "layers.py")


@pytest.fixture
def page(models_copy, kmnist_data):
    return AppTest.from_file(PAGE, default_timeout=120).run()


def prediction(at) -> str:
    return next(m.value for m in at.markdown if m.value.startswith("**Prediction:"))


def chart(at, key: str):
    """The plotly chart with widget/element key `key`, its figure decoded."""
    element = next(c for c in at.get("plotly_chart") if c.proto.id.endswith(f"-{key}"))
    return json.loads(element.proto.spec)


def decoded(array) -> np.ndarray:
    """A figure's array as the chart's JSON carries it (Plotly's base64 typed array), as NumPy."""
    if not isinstance(array, dict):
        return np.asarray(array, float)
    values = np.frombuffer(base64.b64decode(array["bdata"]), array["dtype"])
    return values.reshape([int(n) for n in str(array.get("shape", len(values))).split(",")])


def chart_keys(at) -> list[str]:
    return [c.proto.id.rsplit("-", 1)[-1] for c in at.get("plotly_chart")]


def feature_maps(at) -> dict[str, str]:
    """The feature-map pictures shown: {their caption's layer, e.g. "conv1 · Conv2D": picture URL}."""
    shown = [picture for element in at.get("image") for picture in element.proto.imgs]
    return {p.caption.split(":")[0]: p.url for p in shown if re.search(r": \d+ maps of \d+×\d+$", p.caption)}


def show(at, view: str):
    return open_tab(at, VIEW_KEY, view)


def test_renders_every_section(page):
    assert not page.exception
    intro = page.markdown[0].value
    for concept in ("Conv2D", "pooling", "Flatten", "dense", "dropout", "softmax"):
        assert concept in intro
    headers = ["Input and prediction", "The network at a glance", "Architecture"]
    assert [h.value for h in page.header] == headers
    assert [t.label for t in page.tabs] == list(VIEWS)
    assert re.match(r"\*\*Prediction: \S \(\w+\) \d+%\*\*", prediction(page))
    assert any("NOT the official" in c.value for c in page.caption)  # data provenance shown
    table = page.dataframe[0].value
    assert {"layer", "type", "output_shape", "parameters", "what it does"} <= set(table.columns)
    assert "Conv2D" in set(table["type"]) and "Dense" in set(table["type"])
    shown = chart_keys(page)
    assert {"softmax_bars", "overview", "overview_big"} <= set(shown)
    softmax = chart(page, "softmax_bars")["data"][0]
    assert softmax["x"] == [k.label for k in CLASSES]
    assert sum(softmax["y"]) == pytest.approx(1.0, abs=1e-4)
    # One section at a time, the feature maps first: a second visit draws its charts, not every section's.
    sections = {FEATURE_MAPS: [], FILTERS: ["filters_grid"], DENSE: ["dense_dense"],
                WORKED: ["conv_input", "conv_map", "conv_grids"], GRAD_CAM: ["cam_heatmap"]}
    for view, charts in sections.items():
        if view != FEATURE_MAPS:
            show(page, view)
        assert not page.exception
        own = [k for k in chart_keys(page) if k not in ("softmax_bars", "overview", "overview_big")
               and not k.startswith(("overview_filter_", "overview_pooled"))]
        assert own == charts, view
    show(page, FEATURE_MAPS)  # the maps are pictures (drawn at once), one per conv and pooling layer
    assert [layer.split(" ")[0] for layer in feature_maps(page)] == [
        "conv1", "conv2", "pool1", "conv3", "conv4", "pool2"]
    assert len(page.get("image")) == 1 + 6  # the input and the maps
    assert len(show(page, GRAD_CAM).get("image")) == 2  # the input and Grad-CAM's overlay


def test_a_sections_choices_are_kept_while_another_is_open(page, state_warnings):
    show(page, FILTERS).selectbox(key="filters_layer").set_value("conv3").run()
    show(page, GRAD_CAM).selectbox(key="cam_layer").set_value("conv2").run()
    page.selectbox(key="cam_class").set_value(4).run()
    show(page, FEATURE_MAPS)
    show(page, FILTERS)
    assert page.selectbox(key="filters_layer").value == "conv3"
    assert "conv3: " in chart(page, "filters_grid")["layout"]["title"]["text"]
    show(page, GRAD_CAM)
    assert (page.selectbox(key="cam_layer").value, page.selectbox(key="cam_class").value) == ("conv2", 4)
    assert not page.exception and not state_warnings()


def test_changing_the_image_changes_maps_and_prediction(page):
    before = {key: chart(page, key) for key in ["softmax_bars", "overview"]} | {"maps": feature_maps(page)}
    filters = chart(show(page, FILTERS), "filters_grid")
    show(page, FEATURE_MAPS).selectbox(key="layers_class").set_value(CLASSES[3]).run()
    assert not page.exception
    after = {key: chart(page, key) for key in ["softmax_bars", "overview"]} | {"maps": feature_maps(page)}
    assert after["softmax_bars"] != before["softmax_bars"]
    assert chart(show(page, FILTERS), "filters_grid") == filters  # the model's filters, not the image's
    show(page, FEATURE_MAPS)
    assert after["overview"] != before["overview"]
    assert len(after["maps"]) == 6
    assert all(after["maps"][layer] != url for layer, url in before["maps"].items())  # every layer's maps
    assert "(true: つ" in prediction(page) or "correct" in prediction(page)
    maps = feature_maps(page)
    page.number_input(key="layers_index").set_value(7).run()
    assert not page.exception and feature_maps(page) != maps



def test_every_figure_follows_the_model(page):
    """Figures are built once and shared (kmnist.ui.figures): another model's are its own, and coming back
    to the first model gives its figures again."""
    shown = {FEATURE_MAPS: ["softmax_bars", "overview"], FILTERS: ["filters_grid"],
             WORKED: ["conv_grids"], DENSE: ["dense_dense"]}

    def charts():
        drawn = {key: chart(show(page, view), key) for view, keys_ in shown.items() for key in keys_}
        return drawn | {"maps": feature_maps(show(page, FEATURE_MAPS))}

    assert len(page.selectbox(key=keys.LAYERS_MODEL).options) >= 2
    first = charts()
    page.selectbox(key=keys.LAYERS_MODEL).select_index(1).run()
    assert not page.exception
    assert all(now != first[key] for key, now in charts().items())
    page.selectbox(key=keys.LAYERS_MODEL).select_index(0).run()
    assert charts() == first

def test_filters_layer_and_grad_cam_class(page, models_copy, kmnist_data):
    filters = chart(show(page, FILTERS), "filters_grid")
    layers = page.selectbox(key="filters_layer").options
    assert len(layers) == 4  # studio: conv1, conv2, conv3, conv4
    assert any("`conv1` reads the pixels themselves" in c.value for c in page.caption)
    page.selectbox(key="filters_layer").set_value(layers[-1]).run()
    assert not page.exception and chart(page, "filters_grid") != filters
    assert "64 filters" in chart(page, "filters_grid")["layout"]["title"]["text"]
    assert any("`conv4` reads the 64 maps of `conv3`" in c.value for c in page.caption)
    assert not any("reads the pixels" in c.value for c in page.caption)  # the caption is the layer's own
    cam = show(page, GRAD_CAM).get("image")[1].proto.imgs[0]
    predicted = next(k for k in CLASSES if prediction(page).startswith(f"**Prediction: {k.char} "))
    # A class other than the predicted one whose Grad-CAM shows something else: the page must redraw it.
    model = store.load_model(models_copy / "studio-max.keras")
    image = to_float(kmnist_data.x_test[np.flatnonzero(kmnist_data.y_test == 0)[0]])  # the page's first image
    mine = gradcam.grad_cam_details(model, image).heatmap
    other = next(c for c in range(len(CLASSES)) if c != predicted.index
                 and not np.allclose(gradcam.grad_cam_details(model, image, c).heatmap, mine, atol=0.05))
    page.selectbox(key="cam_class").set_value(other).run()
    assert not page.exception
    assert any(f"Class **{CLASSES[other].label}**" in m.value for m in page.markdown)
    now = page.get("image")[1].proto.imgs[0]
    assert now.caption.startswith(f"Grad-CAM for {CLASSES[other].label} on the input: tinted red to yellow")
    assert now.caption != cam.caption
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


# -- The network at a glance -------------------------------------------------------------------------------

def test_the_overview_shows_every_conv_and_pool_layer_and_enlarges_a_chosen_map(page):
    figure = chart(page, "overview")
    titles = [a["text"] for a in figure["layout"]["annotations"]]
    assert page.session_state["overview_layer"] == "conv1"  # the first layer is chosen at first
    first = next(m.value for m in page.markdown if re.match(r"\*\*Filter \d+ of `conv1`\*\*", m.value))
    assert "on its one input" in first and "the 1 of its 1" not in first  # conv1 reads the image alone
    assert [t.split(" ")[0] for t in titles] == [
        "input", "conv1", "conv2", "pool1", "conv3", "conv4", "pool2", "dense", "softmax"]
    assert [t["type"] for t in figure["data"] if t["type"] != "scatter"] == ["heatmap"] * 8 + ["bar"]
    targets = [t for t in figure["data"] if t["type"] == "scatter" and t.get("customdata")]
    assert [len(t["customdata"]) for t in targets] == [4] * 6  # the 4 maps of every conv/pool layer clickable
    assert [t["customdata"][0][0] for t in targets] == [1, 2, 3, 4, 5, 6]
    page.selectbox(key="overview_layer").set_value("conv3").run()
    page.number_input(key="overview_map").set_value(5).run()
    assert not page.exception
    assert chart(page, "overview_big")["layout"]["title"]["text"] == "conv3 · Conv2D: map 5 (10×10)"
    filters = [k for k in chart_keys(page) if k.startswith("overview_filter_")]
    assert len(filters) == 4  # filter 5's four strongest input maps of the 32 it reads
    assert any("**Filter 5 of `conv3`** on the 4 of its 32 input maps" in m.value for m in page.markdown)
    page.selectbox(key="overview_layer").set_value("pool2").run()
    assert not page.exception
    assert chart(page, "overview_pooled")["layout"]["title"]["text"].startswith("conv4: map 5")
    assert not [k for k in chart_keys(page) if k.startswith("overview_filter_")]


def test_a_click_carries_the_map_or_cell_it_hit():
    assert clicks.clicked_cell([{"curve_number": 9, "x": 3, "y": 2, "customdata": [4, 17]}]) == (4, 17)
    assert clicks.clicked_cell([{"curve_number": 8, "x": 0.5, "y": 2.0}]) is None  # a bar, no map
    assert clicks.clicked_cell([]) is None


# -- One convolution, worked out ---------------------------------------------------------------------------

WORKED_VALUE = re.compile(r"→ \*\*(-?[\d.]+)\*\*, the value at \((\d+), (\d+)\) of map (\d+)")


def check_random_convolutions(at, image, model, count: int, seed: int) -> None:
    """Worked values for `count` seeded (layer, filter, row, col) choices, a third of them on the border,
    against the layer's own output computed here."""
    outputs = probes.layer_outputs(model, image)
    rng = np.random.default_rng(seed)
    show(at, WORKED)
    layers = at.selectbox(key="conv_layer").options
    trials = []
    for trial in range(count):
        layer = layers[rng.integers(len(layers))]
        rows, cols, filters = outputs[layer].shape
        row, col = int(rng.integers(rows)), int(rng.integers(cols))
        if trial % 3 == 0:  # a border position: a corner or an edge
            row, col = [(0, col), (rows - 1, 0), (row, cols - 1), (0, 0)][trial // 3 % 4]
        trials.append((layers.index(layer), row, col, int(rng.integers(filters))))
    for number, row, col, f in sorted(trials):  # by layer: a user picks the layer first, then the rest
        layer = layers[number]
        if at.selectbox(key="conv_layer").value != layer:
            at.selectbox(key="conv_layer").set_value(layer).run()
        at.number_input(key="conv_filter").set_value(f)
        at.number_input(key="conv_row").set_value(row)
        at.number_input(key="conv_col").set_value(col)
        at.run()
        assert not at.exception
        worked = next(WORKED_VALUE.search(m.value) for m in at.markdown if WORKED_VALUE.search(m.value))
        assert tuple(int(v) for v in worked.groups()[1:]) == (row, col, f)
        assert float(worked.group(1)) == pytest.approx(float(outputs[layer][row, col, f]), abs=1e-5), (
            layer, row, col, f)
        assert len(at.success) == 1 and not at.error, (layer, row, col, f)
        assert f"`{layer}` output at ({row}, {col}), map {f}" in at.success[0].value
        assert "'valid' padding" in " ".join(c.value for c in at.caption)  # the studio net's convolutions


def test_the_worked_convolution_matches_the_layer_on_a_test_image(page, models_copy, kmnist_data):
    model = store.load_model(models_copy / "studio-max.keras")
    image = to_float(kmnist_data.x_test[np.flatnonzero(kmnist_data.y_test == 0)[0]])  # the page's first image
    check_random_convolutions(page, image, model, count=12, seed=12)


def test_the_worked_convolution_matches_the_layer_on_a_drawing(models_copy, kmnist_data):
    at = AppTest.from_file(PAGE, default_timeout=120)
    drawing = np.zeros((28, 28), "float32")
    drawing[3:25, 13:16] = 1.0
    drawing[6:9, 2:26] = 0.7
    at.session_state[keys.LAST_DRAWING] = drawing
    at.run()
    assert at.radio(key="layers_source").value == "My drawing (Sketch pad)"
    model = store.load_model(models_copy / "studio-max.keras")
    check_random_convolutions(at, drawing, model, count=10, seed=10)


def test_grad_cam_offers_a_finer_earlier_layer(page):
    layers = show(page, GRAD_CAM).selectbox(key="cam_layer").options
    assert layers == ["conv1", "conv2", "conv3", "conv4"] and page.selectbox(key="cam_layer").value == "conv4"
    assert any("only 8×8" in c.value for c in page.caption)
    coarse = chart(page, "cam_heatmap")["data"][0]["z"]
    page.selectbox(key="cam_layer").set_value("conv2").run()
    assert not page.exception
    assert any("Layer weighed: `conv2`" in m.value for m in page.markdown)
    assert chart(page, "cam_heatmap")["data"][0]["z"] != coarse


def test_a_right_answer_on_an_image_the_model_trained_on_is_flagged(models_copy, shared_copies, monkeypatch):
    from kmnist.data import explore, origins

    subset = shared_copies["kmnist-subset"]  # its test images include the official ones the models trained on
    card = store.read_card(models_copy / "studio-max.keras")
    seen = np.concatenate([origins.decode(record)[1] for record in card.data.images.values()])
    trained = np.isin(subset.origins["test"].positions, seen)
    monkeypatch.setenv("KMNIST_DATA", subset.provenance.directory)
    at = AppTest.from_file(PAGE, default_timeout=180).run()
    members = explore.class_indices(subset.y_test, [0])
    other = next(n for n, position in enumerate(members) if trained[position] != trained[members[0]])
    notes = {}
    for index in (0, other):
        at.number_input(key="layers_index").set_value(index).run()
        assert not at.exception
        notes[bool(trained[members[index]])] = [c.value for c in at.caption
                                                if "trained or validated on this image" in c.value]
    assert notes[True] == [":material/warning: studio-max trained or validated on this image, so a right "
                           "answer here proves little: pick a test image it never saw to judge it."]
    assert notes[False] == []


def test_the_worked_convolution_names_the_shown_layer_and_shares_a_colour_scale_per_kind(page):
    show(page, WORKED).selectbox(key="conv_layer").set_value("conv3").run()
    assert not page.exception
    # conv3 reads dropout1, the identity at inference: its input is named after pool1, the layer shown
    sentence = next(m.value for m in page.markdown if "The largest, " in m.value)
    largest = re.search(r"The largest, pool1 map (\d+) \(shown above\), adds ([+-][\d.]+): it pushes the "
                        r"value (up|down)\.", sentence)
    assert largest and "largest in size, positive or negative" in sentence
    assert chart(page, "conv_input")["layout"]["title"]["text"] == f"conv3 reads pool1 map {largest[1]} " \
                                                                   "(12×12)"
    grids = chart(page, "conv_grids")
    titles = [a["text"] for a in grids["layout"]["annotations"]]
    assert titles[0] == f"window of pool1 map {largest[1]}" and not any("dropout" in t for t in titles)
    sums = [float(t.rsplit(" ", 1)[1]) for t in titles if t.startswith("= products: sum ")]
    assert sums[0] == float(largest[2]) and (largest[3] == "up") == (sums[0] > 0)  # words and sign agree
    assert [abs(s) for s in sums] == sorted((abs(s) for s in sums), reverse=True)
    # one colour scale per kind of grid, symmetric about 0, reaching the largest value of its kind
    caption = next(c.value for c in page.caption if c.value.startswith("Each row: the 3×3 window"))
    for axis, kind in (("coloraxis", "input value"), ("coloraxis2", "weight"), ("coloraxis3", "product")):
        scale = grids["layout"][axis]
        cells = [np.abs(decoded(t["z"])).max() for t in grids["data"] if t["coloraxis"] == axis]
        assert len(cells) == 3 and scale["cmin"] == -scale["cmax"] == pytest.approx(-max(cells))
        assert scale["colorbar"]["title"]["text"] == kind and f"{kind}s ±{scale['cmax']:.3f}" in caption


def test_the_layer_table_shows_every_layer_name_in_full(page):
    table = page.dataframe[0]
    names = list(table.value["layer"])
    assert "dropout_dense" in names
    width = json.loads(table.proto.columns)["layer"]["width"]
    assert width >= 8 * max(map(len, names)) + 16  # 8 px a character of the table's 14 px font, and padding


def test_grad_cam_is_drawn_in_the_colours_its_text_names_and_explains_heat_off_the_strokes(page):
    words = next(m.value for m in show(page, GRAD_CAM).markdown if m.value.startswith("**Grad-CAM**"))
    assert "red" in words and "yellow" in words and "grey" in words
    heat = chart(page, "cam_heatmap")["data"][0]
    assert heat["colorscale"] == [[stop, f"rgb{rgb}"] for stop, rgb in gradcam.HEAT]  # black, red, yellow
    assert heat.get("showscale", True) and heat["colorbar"]["ticktext"] == ["none", "half", "most"]
    assert any(c.value.startswith("The heatmap alone (28×28): black for no evidence") for c in page.caption)
    background = ("Heat on empty paper: each cell of `conv4`'s maps, stretched here to 28×28, tints a patch "
                  "about 3.5 pixels wide")
    assert any(c.value.startswith(background) and "absence of ink" in c.value for c in page.caption)


def test_opened_before_keras_is_imported_it_predicts_at_once_and_fills_in_when_keras_is_there(
        models_copy, kmnist_data, monkeypatch):
    """A first visit soon after the server started: the prediction comes from the model's ONNX twin at
    once, Keras is imported in the background meanwhile, and the page fills in once it is there."""
    from kmnist.ui import keras_state

    imported, started = [False], []
    monkeypatch.setattr(keras_state, "keras_imported", lambda: imported[0])
    monkeypatch.setattr(keras_state, "import_keras_now", lambda: started.append(1) or 0.0)
    at = AppTest.from_file(PAGE, default_timeout=120).run()
    assert not at.exception and not at.error
    headers = [h.value for h in at.header]
    assert headers == ["Input and prediction"] and started == [1]
    loading = at.get("progress")[0].proto.text
    assert loading.startswith("Loading TensorFlow for the layer-by-layer views") and "fills in" in loading
    early = prediction(at)
    imported[0] = True  # what the page's poll then sees: it reruns with every section
    at.run()
    assert not at.exception and "Architecture" in [h.value for h in at.header]
    assert prediction(at) == early  # ONNX Runtime and Keras agree on what is shown
    assert not at.get("progress")
