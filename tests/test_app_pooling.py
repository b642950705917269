"""AppTest of the Max vs average pooling page: window arithmetic, the pair comparison, retraining a pair."""

import json
import re
import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from kmnist.charts.style import CLASS_NAMES
from kmnist.jobs import ledger as jobs
from kmnist.jobs import snapshots
from kmnist.ui.pooling_state import PAIR, VIEW_KEY
from tests.conftest import open_tab

PAGE = str(Path(__file__).resolve().parent.parent / "pages" / "pooling.py")



@pytest.fixture
def page(models_copy, kmnist_data):
    return AppTest.from_file(PAGE, default_timeout=120).run()


def table(at, column: str):
    """The comparison table with a column `column`: "setting", "test accuracy" or a class name (per class)."""
    return next(frame.value for frame in at.dataframe if column in frame.value.columns)


def chart_spec(at, key: str) -> dict:
    """The figure (JSON) of the chart keyed `key`."""
    return json.loads(next(c for c in at.get("plotly_chart") if c.proto.id.endswith(f"-{key}")).proto.spec)


def arithmetic(at) -> str:
    return next(m.value for m in at.markdown if m.value.startswith("- **max**"))


def test_window_arithmetic_is_shown_and_follows_the_sliders(page):
    assert not page.exception
    assert "max pooling" in page.markdown[0].value and "average pooling" in page.markdown[0].value
    text = arithmetic(page)
    values = [float(v) for v in re.search(r"\*\*max\*\* \(([^)]*)\)", text).group(1).split(", ")]
    maximum = float(re.search(r"= \*\*([-\d.]+)\*\* → pixel", text).group(1))
    mean = float(re.search(r"/ 4 = \*\*([-\d.]+)\*\*", text).group(1))
    assert len(values) == 4 and maximum == pytest.approx(max(values), abs=1e-4)
    assert mean == pytest.approx(sum(values) / 4, abs=1e-4)
    check = next(c.value for c in page.caption if c.value.startswith("Check:"))
    assert float(re.search(r"largest difference ([\d.e+-]+)\)", check).group(1)) < 1e-4
    page.slider(key="window_row").set_value(0).run()
    page.slider(key="window_col").set_value(1).run()
    assert "pixel (0, 1)" in arithmetic(page)
    page.button(key="telling_window").click().run()
    assert not page.exception and "pixel (0, 1)" not in arithmetic(page)
    page.selectbox(key="image_class").set_value(page.selectbox(key="image_class").options[3])
    page.slider(key="channel").set_value(5).run()
    assert not page.exception


def test_a_new_channel_brings_its_own_telling_window_and_the_table_names_real_rows(page):
    page.slider(key="window_row").set_value(0).run()
    page.slider(key="window_col").set_value(0).run()
    windows = []
    for channel in (3, 7, 11):
        page.slider(key="channel").set_value(channel).run()
        assert not page.exception
        window = page.slider(key="window_row").value, page.slider(key="window_col").value
        page.button(key="telling_window").click().run()  # already there: the window followed the channel
        assert (page.slider(key="window_row").value, page.slider(key="window_col").value) == window
        row, col = window
        table = next(d.value for d in page.dataframe if list(d.value.columns) == [f"col {2 * col}",
                                                                                    f"col {2 * col + 1}"])
        assert list(table.index) == [f"row {2 * row}", f"row {2 * row + 1}"]
        windows.append(window)
    assert set(windows) != {(0, 0)}, "the window stayed where it was"


def test_the_shipped_pair_is_compared(page):
    """Through the Compare runs page's view: the pair differs in pooling alone, results side by side."""
    assert len(page.get("plotly_chart")) == 3  # part 1 open first: its three maps alone
    open_tab(page, VIEW_KEY, PAIR)
    assert page.selectbox(key="pair").value[0].name == "studio-max"
    assert table(page, "setting").values.tolist() == [["pooling", "max", "avg"]]
    shared = next(c.value for c in page.caption if c.value.startswith("Shared by all:"))
    assert "seed = 1" in shared and "epochs = 2" in shared
    metrics = table(page, "test accuracy")
    assert list(metrics["model"]) == ["studio-max", "studio-avg"]
    assert metrics["test accuracy"].str.fullmatch(r"\d+\.\d%").all()
    assert metrics["training time"].str.fullmatch(r"[\d,]+\.\d s").all()
    classes = table(page, CLASS_NAMES[0])
    assert list(classes["model"]) == ["studio-max", "studio-avg"] and list(classes.columns)[1:] == CLASS_NAMES
    verdict = next(m.value for m in page.markdown if "test accuracy" in m.value and "pooling" in m.value)
    assert verdict.endswith(("pooling made no difference that shows on these test images.",
                             "a gap that comes from pooling and training noise."))
    # the curves, the per-class bars, 2 feature grids
    assert len(page.get("plotly_chart")) == 1 + 1 + 2


def test_the_three_maps_are_as_tall_as_their_square_maps_need_without_empty_bands(page):
    maps = [chart_spec(page, key) for key in ("map", "max_map", "avg_map")]
    for spec in maps:
        layout, heat = spec["layout"], spec["data"][0]
        assert heat["showscale"] is False  # one shared scale, in the caption, gives each map its width
        margin = layout["margin"]
        assert margin["l"] <= 30 and margin["r"] <= 5 and margin["b"] <= 30  # room for tick labels only
        square = layout["height"] - margin["t"] - margin["b"]  # the map fills a column this much wider
        assert 240 <= square + margin["l"] + margin["r"] <= 340  # a third of a 1,280-1,600 px wide screen
    assert len({spec["layout"]["height"] for spec in maps}) == 1 and maps[0]["layout"]["height"] < 360
    scale = next(c.value for c in page.caption if c.value.startswith("One colour scale for all three"))
    assert "the red box is the window worked out below" in scale


def test_a_pair_whose_accuracies_read_the_same_is_called_equal_not_a_gap(models_copy, kmnist_data):
    for name, accuracy in (("studio-max", 0.95041), ("studio-avg", 0.95044)):  # both read 95.04 %
        path = models_copy / f"{name}.card.json"
        card = json.loads(path.read_text())
        card["test"]["accuracy"] = accuracy
        path.write_text(json.dumps(card))
    at = open_tab(AppTest.from_file(PAGE, default_timeout=120).run(), VIEW_KEY, PAIR)
    assert not at.exception
    assert list(table(at, "test accuracy")["test accuracy"]) == ["95.04%", "95.04%"]
    words = [m.value for m in at.markdown] + [c.value for c in at.caption]
    assert ("Both read the same test accuracy, 95.04%: at this precision they are equal, so pooling made no "
            "difference that shows on these test images.") in words
    assert not [w for w in words if "gap" in w and "pooling" in w], "a gap the page does not show"


def test_no_models_says_how_to_get_them(models_copy, kmnist_data, tmp_path):
    kept = tmp_path / "kept"
    shutil.copytree(models_copy, kept)
    for path in models_copy.iterdir():
        path.unlink()
    at = AppTest.from_file(PAGE, default_timeout=120).run()
    assert not at.exception
    assert "No trained model yet" in at.warning[0].value
    assert any("No max/avg pair found" in i.value for i in at.info)  # the pair part open, to retrain one
    for path in kept.iterdir():  # a model appears (a pair retrained): the person stays where they are
        shutil.copy2(path, models_copy / path.name)
    at.run()
    assert not at.exception and at.selectbox(key="pair").value[0].name == "studio-max"


def test_retraining_a_pair_adds_a_comparable_pair(page, models_copy):
    open_tab(page, VIEW_KEY, PAIR)
    page.text_input(key="pair_prefix").set_value("bad name!")
    page.button(key="pair_start").click().run()
    assert "is not allowed" in page.error[0].value
    page.text_input(key="pair_prefix").set_value("duo")
    page.number_input(key="pair_epochs").set_value(1)
    page.number_input(key="pair_limit").set_value(300)
    page.button(key="pair_start").click().run()
    assert not page.error and jobs.current().state in snapshots.ACTIVE
    assert jobs.current().wait(200), "the pair did not finish training"
    page.run()
    assert jobs.current().state == snapshots.FINISHED and not page.exception
    assert (models_copy / "duo-max.keras").is_file() and (models_copy / "duo-avg.keras").is_file()
    assert page.selectbox(key="pair").options == ["studio-max vs studio-avg", "duo-max vs duo-avg"]
    assert sum("saved to" in s.value for s in page.success) == 2
