"""AppTest of the Compare runs page: differing settings, metrics side by side, clicking a confusion cell."""

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from kmnist.charts.style import CLASS_NAMES
from kmnist.data import origins
from kmnist.data.pixels import to_model_input
from kmnist.evaluation import confusion
from kmnist.registry import inference, store
from kmnist.ui import keys
from kmnist.ui.comparison_view import MISTAKES, SIDE_BY_SIDE, VIEW_KEY
from kmnist.ui.confusion_view import MAX_SHOWN
from tests.conftest import open_tab

ROOT = Path(__file__).resolve().parent.parent
PAGE, APP = str(ROOT / "pages" / "compare.py"), str(ROOT / "app.py")


def table(at, column: str):
    """The comparison table with a column `column`: "setting", "test accuracy" or a class name (per class)."""
    return next(frame.value for frame in at.dataframe if column in frame.value.columns)


def click_cell(at, key: str, cell: confusion.Cell | None) -> None:
    """What the browser sends when a cell's marker is clicked (see tests/browser/test_compare.py); None:
    the empty selection plotly.js sends when a click toggles the picked cell off (confusion.kept_pick)."""
    points = [] if cell is None else [{"curve_number": 1, "point_index": cell.index}]
    indices = [point["point_index"] for point in points]
    at.session_state[key] = {"selection": {"points": points, "point_indices": indices,
                                           "box": [], "lasso": []}}


@pytest.fixture
def page(models_copy, kmnist_data):
    return AppTest.from_file(PAGE, default_timeout=120).run()


def test_the_pair_differs_only_in_pooling_and_is_shown_side_by_side(page):
    assert not page.exception
    assert [e.name for e in page.multiselect(key="compare_models").value] == ["studio-max", "studio-avg"]
    settings = table(page, "setting")
    assert list(settings["setting"]) == ["pooling"] and list(settings.columns) == [
        "setting", "studio-max", "studio-avg"]
    assert list(settings.iloc[0]) == ["pooling", "max", "avg"]
    shared = next(c.value for c in page.caption if c.value.startswith("Shared by all:"))
    assert "seed = 1" in shared and "epochs = 2" in shared and "pooling" not in shared
    metrics = table(page, "test accuracy")
    assert list(metrics["model"]) == ["studio-max", "studio-avg"]
    assert metrics["test accuracy"].str.fullmatch(r"\d+\.\d%").all()
    classes = table(page, CLASS_NAMES[0])
    assert list(classes["model"]) == ["studio-max", "studio-avg"] and list(classes.columns)[1:] == CLASS_NAMES


def test_picked_models_list_exactly_the_settings_they_differ_in(page, models_copy):
    copies(models_copy, {"slow": "studio-max"})
    card = json.loads((models_copy / "slow.card.json").read_text())
    card["config"] |= {"epochs": 3, "learning_rate": 0.001}
    (models_copy / "slow.card.json").write_text(json.dumps(card))
    page.run()
    entries = {entry.name: entry for entry in store.list_models()}
    page.multiselect(key="compare_models").set_value([entries["studio-max"], entries["slow"]]).run()
    assert not page.exception
    settings = table(page, "setting")
    assert list(settings["setting"]) == ["epochs", "learning_rate"]
    assert list(settings.iloc[1]) == ["learning_rate", "0.003", "0.001"]
    page.multiselect(key="compare_models").set_value([entries["slow"]]).run()
    assert "Pick at least two models." in [i.value for i in page.info]
    assert not page.dataframe


def copies(models_copy, names: dict[str, str]) -> None:
    """Copies of models in `models_copy` under other names ({new name: model copied}), cards and all."""
    for name, source in names.items():
        card = json.loads((models_copy / f"{source}.card.json").read_text())
        card.pop("onnx")  # no twin for the copy: its predictions come from Keras
        shutil.copy2(models_copy / f"{source}.keras", models_copy / f"{name}.keras")
        (models_copy / f"{name}.card.json").write_text(json.dumps(card))


def test_four_models_whose_long_names_share_a_prefix_all_show_whole_and_apart(page, models_copy):
    names = ["my-model-max-2", "my-model-max-3", "my-model-avg-2", "my-model-avg-3"]
    copies(models_copy, {name: f"studio-{name.split('-')[2]}" for name in names})
    page.run()
    entries = {entry.name: entry for entry in store.list_models()}
    page.multiselect(key="compare_models").set_value([entries[name] for name in names]).run()
    assert not page.exception
    classes = table(page, CLASS_NAMES[0])  # a row per model: a fourth (or tenth) is never cut off
    assert list(classes["model"]) == names and list(classes.columns) == ["model", *CLASS_NAMES]
    assert list(table(page, "setting").columns) == ["setting", *names]
    assert list(table(page, "test accuracy")["model"]) == names
    for chart in ("compare_curves", "compare_class_bars"):
        spec = json.loads(next(c for c in page.get("plotly_chart") if chart in c.proto.id).proto.spec)
        assert spec["layout"]["hoverlabel"]["namelength"] == -1  # hover labels show whole names
        assert all(any(name in trace["name"] for trace in spec["data"]) for name in names)


def test_a_cell_shows_its_images_and_one_opens_in_the_layer_visualizer_on_the_same_model(models_copy,
                                                                                        kmnist_data):
    """With a model other than the default (the default hid that the visualizer opened on studio-max)."""
    classifier = inference.load_classifier(models_copy / "studio-avg.keras")
    predicted = classifier.probabilities(to_model_input(kmnist_data.x_test)).argmax(axis=1)
    counts = confusion.matrix(kmnist_data.y_test, predicted)
    mistakes = [c for c in confusion.CELLS if c.true != c.predicted]
    cell = max(mistakes, key=lambda c: counts[c.true][c.predicted])  # the most common mistake
    expected = confusion.members(kmnist_data.y_test, predicted, cell)
    last = int(expected[:MAX_SHOWN][-1])  # the last image shown

    at = AppTest.from_file(APP, default_timeout=120).run()
    open_tab(at.switch_page("pages/compare.py").run(), VIEW_KEY, MISTAKES)
    avg = next(entry for entry in store.list_models() if entry.name == "studio-avg")
    at.selectbox(key="results_model").set_value(avg).run()
    assert not at.exception and at.selectbox(key="results_model").value.name == "studio-avg"
    click_cell(at, "results-confusion", cell)
    at.run()
    assert not at.exception
    assert any(m.value.startswith(f"**{len(expected):,} test images**, {cell.words}") for m in at.markdown)
    images = at.get("image")[0].proto.imgs
    assert [image.caption for image in images] == [f"#{i}" for i in expected[:MAX_SHOWN]]
    at.selectbox(key="results-pick").set_value(last).run()
    at.button(key="results-inspect").click().run()
    assert not at.exception
    assert at.radio(key=keys.LAYERS_SOURCE).value == "Picked test image"
    sent = at.session_state[keys.INSPECT_IMAGE]
    assert np.allclose(sent["image"], kmnist_data.x_test[last] / 255.0) and sent["truth"] == cell.true
    assert any(f"test image #{last}, {cell.words} by studio-avg" in i.proto.imgs[0].caption
               for i in at.get("image"))
    assert at.selectbox(key=keys.LAYERS_MODEL).value.name == "studio-avg"  # the model whose mistake it was
    assert "wrong" in next(m.value for m in at.markdown if m.value.startswith("**Prediction:"))


@pytest.mark.parametrize("drawn_after", [False, True], ids=["picked-last", "drawn-last"])
def test_the_layer_visualizer_opens_on_the_input_sent_last(models_copy, kmnist_data, drawn_after):
    drawing = np.zeros((28, 28), "float32")
    at = AppTest.from_file(str(ROOT / "pages" / "layers.py"), default_timeout=120)
    at.session_state[keys.LAST_DRAWING] = drawing
    at.session_state[keys.INSPECT_IMAGE] = {"image": np.ones((28, 28), "float32"), "truth": 0, "caption": "x",
                                            "drawing": None if drawn_after else drawing}
    at.run()
    radio = at.radio(key=keys.LAYERS_SOURCE)
    assert radio.options == ["Test image", "My drawing (Sketch pad)", "Picked test image"]
    assert radio.value == ("My drawing (Sketch pad)" if drawn_after else "Picked test image")


def explorer_script():
    import numpy as np
    import streamlit as st

    from kmnist.ui.confusion_view import confusion_explorer

    labels = np.array([0, 0, 1, 1])
    predicted = st.session_state.get("toy-predicted", np.array([0, 1, 1, 1]))  # another model: set it here
    images = np.arange(4, dtype=np.uint8)[:, None, None] * np.ones((1, 28, 28), np.uint8)
    confusion_explorer(labels, predicted, images, "toy", "toy-model")


def test_an_empty_cell_says_so_and_a_full_one_shows_its_images():
    at = AppTest.from_function(explorer_script, default_timeout=60).run()
    assert at.caption[0].value.startswith("Click a cell to see its test images")
    click_cell(at, "toy-confusion", confusion.Cell(1, 0))
    at.run()
    assert not at.exception
    empty = "**Empty cell** (true き (ki), predicted お (o)): toy-model read no test image this way."
    assert at.info[0].value == empty
    click_cell(at, "toy-confusion", confusion.Cell(1, 1))
    at.run()
    assert [image.caption for image in at.get("image")[0].proto.imgs] == ["#2", "#3"]
    assert at.selectbox(key="toy-pick").options == ["test image #2", "test image #3"]


def shown_captions(at) -> list[str]:
    """The captions of the images the toy explorer shows; [] when it shows none."""
    return [image.caption for image in at.get("image")[0].proto.imgs] if at.get("image") else []


def test_every_click_shows_its_cell_and_an_empty_selection_keeps_it():
    at = AppTest.from_function(explorer_script, default_timeout=60).run()
    for cell, captions in [(confusion.Cell(1, 1), ["#2", "#3"]), (confusion.Cell(0, 0), ["#0"]),
                           (confusion.Cell(0, 1), ["#1"])]:
        click_cell(at, "toy-confusion", cell)
        at.run()
        assert not at.exception and shown_captions(at) == captions
        click_cell(at, "toy-confusion", None)  # the same cell clicked again: plotly unselects it
        at.run()
        assert shown_captions(at) == captions, "an empty selection hid the picked cell"
        at.selectbox(key="toy-pick").set_value(int(captions[-1][1:])).run()  # a widget below reruns
        assert shown_captions(at) == captions
    assert at.markdown[0].value.startswith("**1 test image**, true お (o), predicted き (ki)")


def test_another_matrix_starts_with_no_cell_picked():
    at = AppTest.from_function(explorer_script, default_timeout=60).run()
    click_cell(at, "toy-confusion", confusion.Cell(1, 1))
    at.run()
    assert shown_captions(at) == ["#2", "#3"]
    at.session_state["toy-predicted"] = np.array([0, 0, 0, 1])  # another model: a new chart, no selection
    click_cell(at, "toy-confusion", None)
    at.run()
    assert not at.exception and shown_captions(at) == []
    assert at.caption[0].value.startswith("Click a cell to see its test images")


def test_on_another_copy_only_the_test_images_a_model_never_saw_count(models_copy, shared_copies,
                                                                      kmnist_data, monkeypatch):
    # the session's models trained on KMNIST_DATA (kmnist-offline: official test images); kmnist-subset's
    # test set holds those images too, and the page leaves them out, in a line and in the matrix
    subset = shared_copies["kmnist-subset"]
    card = store.read_card(models_copy / "studio-max.keras")
    seen = np.concatenate([origins.decode(record)[1] for record in card.data.images.values()])
    left_out = int(np.isin(subset.origins["test"].positions, seen).sum())
    assert left_out == card.data.used["train"] + card.data.used["validation"]
    monkeypatch.setenv("KMNIST_DATA", subset.provenance.directory)
    at = AppTest.from_file(APP, default_timeout=180).run()
    open_tab(at.switch_page("pages/compare.py").run(), VIEW_KEY, MISTAKES)
    assert not at.exception
    line = (f"on the {9000 - left_out:,} official test images studio-max never saw; {left_out:,} it trained "
            "or validated on are left out")
    assert any(line in c.value for c in at.caption), [c.value for c in at.caption]
    chart = next(c for c in at.get("plotly_chart") if "results-confusion" in c.proto.id)
    matrix = json.loads(chart.proto.spec)
    assert sum(matrix["data"][1]["customdata"]) == 9000 - left_out  # the cells' counts


def test_a_validation_accuracy_far_above_the_test_accuracy_is_explained(page, models_copy):
    card = json.loads((models_copy / "studio-max.card.json").read_text())
    card["validation"]["val_accuracy"], card["test"]["accuracy"] = 0.985, 0.933
    (models_copy / "studio-max.card.json").write_text(json.dumps(card))
    page.run()
    lesson = next(i.value for i in page.info if "Far better on validation than on test" in i.value)
    assert "studio-max: validation 98.50% vs test 93.30% (5.2 points apart)" in lesson
    assert "The test set comes from other sources than the training set" in lesson
    assert "studio-avg" not in lesson  # its figures are close: nothing to point out


def test_one_section_at_a_time_and_the_chosen_models_are_kept_while_the_other_is_open(page, models_copy):
    """A visit draws the comparison alone; the confusion matrix when its tab opens; the models picked for
    the comparison are still picked when the person comes back to it."""
    keys_ = [c.proto.id.rsplit("-", 1)[-1] for c in page.get("plotly_chart")]
    assert keys_ == ["compare_curves", "compare_class_bars"]
    copies(models_copy, {"slow": "studio-max"})
    page.run()
    entries = {entry.name: entry for entry in store.list_models()}
    page.multiselect(key="compare_models").set_value([entries["studio-max"], entries["slow"]]).run()
    open_tab(page, VIEW_KEY, MISTAKES)
    assert [c.proto.id.endswith("-results-confusion") for c in page.get("plotly_chart")] == [True]
    open_tab(page, VIEW_KEY, SIDE_BY_SIDE)
    assert [e.name for e in page.multiselect(key="compare_models").value] == ["studio-max", "slow"]
    assert not page.exception
