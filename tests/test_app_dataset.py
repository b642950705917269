"""AppTest of the Dataset explorer page on the real data: gallery, split, statistics, projections, hovers."""

import json
import re
import threading
import time

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from kmnist.data.classes import CLASSES
from kmnist.ui import maps
from kmnist.ui.component_protocol import class_names
from kmnist.ui.dataset_sections import EXAMPLES, GALLERY, MAPS, STATISTICS, VIEW_KEY
from tests.conftest import open_tab

PAGE = "../pages/dataset.py"


@pytest.fixture(autouse=True)
def maps_in_this_process(monkeypatch):
    """The maps computed by a fresh MapWork per test, in its worker thread rather than a child process (the
    server's way, tested in test_map_tasks and the browser tests), so that stand-ins and counters patched
    here take effect. scikit-learn is imported first, as the child would: a thread importing it while a
    script run looks pandas up in sys.modules (plotly does) can meet pandas half imported."""
    import sklearn.decomposition  # noqa: F401
    import sklearn.manifold  # noqa: F401
    import sklearn.neighbors  # noqa: F401

    from kmnist.ui import map_tasks, maps

    monkeypatch.setattr(map_tasks, "RUNNER", map_tasks.InThread)
    maps.shared_work.clear()


def progress_texts(app) -> list[str]:
    """The texts of the progress bars of the maps still being computed."""
    return [bar.proto.text for bar in app.get("progress")]


def until_maps(app, timeout: float = 180):
    """Rerun `app` until no map is being computed any more, as often as the page's own polling does."""
    deadline = time.monotonic() + timeout
    while progress_texts(app):
        assert time.monotonic() < deadline, f"still computing after {timeout} s: {progress_texts(app)}"
        time.sleep(maps.POLL_SECONDS)
        app.run()
    assert not app.exception, app.exception
    return app


@pytest.fixture
def page(data_dir, monkeypatch):
    monkeypatch.setenv("KMNIST_DATA", str(data_dir))
    app = AppTest.from_file(PAGE, default_timeout=120).run()
    assert not app.exception, app.exception
    return app


def on_maps(app):
    """`app` with its maps' section open, once they are computed."""
    return until_maps(open_tab(app, VIEW_KEY, MAPS))


@pytest.fixture
def maps_page(page):
    return on_maps(page)


def gallery_caption(app) -> str:
    return next(c.value for c in app.caption if " · page " in c.value)


def tile_labels(app) -> str:
    return next(m.value for m in app.markdown if re.match(r"#\d", m.value))


def chart_spec(app, key_part: str) -> dict:
    charts = [c for c in app.get("plotly_chart") if key_part in c.proto.id]
    assert charts, f"no plotly chart with {key_part!r} in its id"
    return json.loads(charts[0].proto.spec)


def test_page_explains_kmnist_and_shows_provenance(page, kmnist_data):
    assert "Kuzushiji-MNIST" in page.markdown[0].value
    assert any("NOT the official KMNIST release" in c.value for c in page.caption)
    total = kmnist_data.provenance.sizes["train"]
    assert f"48 of {total:,} images in classes" in gallery_caption(page)
    assert "#0 is its first image" in gallery_caption(page)  # tiles count from #0: no "images 1–48" beside
    assert "page 1 of" in gallery_caption(page)
    assert any("CC BY-SA 4.0" in c.value for c in page.caption)


def test_choosing_one_class_shows_only_that_class(page, kmnist_data):
    tsu = CLASSES[3]
    page.multiselect(key="gallery_classes").set_value([3]).run()
    assert not page.exception
    expected = int((kmnist_data.y_train == 3).sum())
    caption = gallery_caption(page)
    assert f"of {expected:,} images in class {tsu.label}" in caption
    assert all(k.label not in caption for k in CLASSES if k.index != 3)
    labels = tile_labels(page).split(" · ")
    assert len(labels) == 48 and all(label.endswith(f"{tsu.char} ({tsu.romaji})") for label in labels)
    positions = [int(label.split()[0][1:]) for label in labels]
    assert all(kmnist_data.y_train[p] == 3 for p in positions)


def test_paging_and_switching_split(page, kmnist_data):
    page.button(key="gallery_next").click().run()
    assert page.number_input(key="gallery_page").value == 2
    total = len(kmnist_data.y_train)
    assert f"48 of {total:,} images" in gallery_caption(page) and "page 2 of" in gallery_caption(page)
    assert tile_labels(page).startswith("#48 ")  # all classes: the tiles run in order, 48 a page
    page.button(key="gallery_prev").click().run()
    assert page.number_input(key="gallery_page").value == 1
    page.number_input(key="gallery_page").set_value(3).run()
    assert "page 3 of" in gallery_caption(page) and tile_labels(page).startswith("#96 ")

    page.radio(key="split").set_value("test").run()
    assert not page.exception
    assert page.number_input(key="gallery_page").value == 1  # a new split starts at page 1
    test_total = kmnist_data.provenance.sizes["test"]
    assert f"test: 48 of {test_total:,} images" in gallery_caption(page)
    positions = [int(label.split()[0][1:]) for label in tile_labels(page).split(" · ")]
    assert [CLASSES[kmnist_data.y_test[p]].char for p in positions] == [
        label.split()[1] for label in tile_labels(page).split(" · ")]


def test_statistics_follow_the_data(page, kmnist_data):
    balance = chart_spec(open_tab(page, VIEW_KEY, STATISTICS), "class_balance")
    train = next(t for t in balance["data"] if t["name"].startswith("train"))
    assert sum(train["y"]) == kmnist_data.provenance.sizes["train"]
    with_background = chart_spec(page, "intensity")["data"][0]["y"]
    page.toggle(key="skip_background").set_value(False).run()
    without_skip = chart_spec(page, "intensity")["data"][0]["y"]
    assert without_skip[0] > with_background[0]  # the black background now counts in the first bin
    assert sum(without_skip) == kmnist_data.x_train.size


def test_the_page_is_usable_while_its_maps_compute_then_shows_them(data_dir, monkeypatch, kmnist_data):
    from kmnist.data import explore

    gate, computing, map_2d = threading.Event(), threading.Event(), explore.map_2d

    def slow_map(*args, progress=None, **kwargs):  # a stand-in that takes as long as the test wants
        progress(0.3, "stand-in mapping")
        computing.set()
        assert gate.wait(60), "the test never let the map finish"
        return map_2d(*args, progress=progress, **kwargs)

    monkeypatch.setattr(explore, "map_2d", slow_map)
    monkeypatch.setenv("KMNIST_DATA", str(data_dir))
    app = AppTest.from_file(PAGE, default_timeout=60).run()  # the gallery: the maps start all the same
    assert not app.exception, app.exception
    assert computing.wait(30)
    app.run()
    total = kmnist_data.provenance.sizes["train"]
    assert f"48 of {total:,} images in classes" in gallery_caption(app)  # the gallery, classes and
    assert chart_spec(open_tab(app, VIEW_KEY, STATISTICS), "class_balance")["data"]  # statistics are there
    assert chart_spec(app, "intensity")["data"]
    (bar,) = progress_texts(open_tab(app, VIEW_KEY, MAPS))  # the maps: their progress, and how long so far
    assert re.fullmatch(r"PCA map of the pixels: stand-in mapping · \d+ s", bar), bar
    assert any("Computed once in the background" in c.value for c in app.caption)
    assert not [c for c in app.get("plotly_chart") if "projection_" in c.proto.id]
    open_tab(app, VIEW_KEY, GALLERY).button(key="gallery_next").click().run()  # the gallery works meanwhile
    assert "page 2 of" in gallery_caption(app)

    gate.set()
    on_maps(app)
    assert sum(len(trace["x"]) for trace in chart_spec(app, "projection_PCA_train")["data"]) == total
    assert any("nearest neighbour of their own class" in c.value for c in app.caption)


def test_a_map_that_fails_says_why_on_the_page_and_can_be_tried_again(data_dir, monkeypatch):
    from kmnist.data import explore

    map_2d, failures = explore.map_2d, [RuntimeError("the machine ran out of memory")]

    def failing_once(*args, **kwargs):
        if failures:
            raise failures.pop()
        return map_2d(*args, **kwargs)

    monkeypatch.setattr(explore, "map_2d", failing_once)
    monkeypatch.setenv("KMNIST_DATA", str(data_dir))
    app = on_maps(AppTest.from_file(PAGE, default_timeout=60).run())
    assert [e.value for e in app.error] == ["**No pixel map.** RuntimeError: the machine ran out of memory"]
    assert not [c for c in app.get("plotly_chart") if "projection_" in c.proto.id]
    app.run()
    assert len(app.error) == 1 and not failures  # kept, not tried again behind the person's back
    until_maps(app.button(key="map_progress_pixels_retry").click().run())
    assert not app.error
    assert chart_spec(app, "projection_PCA_train")["data"]


def test_pca_and_tsne_projections_render(maps_page, kmnist_data):
    page = maps_page
    pca = chart_spec(page, "projection_PCA_train")
    assert sum(len(trace["x"]) for trace in pca["data"]) == kmnist_data.provenance.sizes["train"]
    assert len(pca["data"]) == 10
    assert any("Click a point" in i.value for i in page.info)

    page.radio(key="projection_method").set_value("t-SNE").run()
    assert not [c for c in page.get("plotly_chart") if "t-SNE" in c.proto.id]  # only on demand
    page.select_slider(key="tsne_size").set_value(300).run()
    page.button(key="tsne_compute").click().run()
    assert not page.exception
    assert not [b for b in page.button if b.key == "tsne_compute"]  # asked for: the prompt is gone
    until_maps(page)
    tsne = chart_spec(page, "projection_t-SNE_train")
    points = [p for trace in tsne["data"] for p in trace["customdata"]]
    assert len(points) == 300
    assert all(kmnist_data.y_train[position] == index for position, index in points)


def hover_args(app) -> dict:
    """The arguments the page gave its one hover-thumbnail component."""
    instances = [element.proto for element in app.get("component_instance")
                 if element.proto.component_name.endswith("map_hover")]
    assert len(instances) == 1, f"{len(instances)} map_hover components on the page"
    return json.loads(instances[0].json_args)


def served_images(sheets: dict) -> np.ndarray:
    """Every image the sprite sheets named in `sheets` hold, in order, cut by the layout given to the page."""
    from PIL import Image

    from kmnist.ui.map_hover import component

    side, columns = sheets["tile"], sheets["columns"]
    tiles = []
    for number in range(sheets["pages"]):
        path = component.ASSETS / sheets["url"].replace("{page}", str(number))
        sheet = np.asarray(Image.open(path))
        assert sheet.dtype == np.uint8 and sheet.ndim == 2 and sheet.shape[1] == columns * side
        rows = sheet.shape[0] // side
        tiles.append(sheet.reshape(rows, side, columns, side).transpose(0, 2, 1, 3).reshape(-1, side, side))
    return np.concatenate(tiles)[:sheets["count"]]


def test_hover_thumbnails_listen_to_the_maps_and_get_the_splits_images(maps_page, kmnist_data):
    page = maps_page
    args = hover_args(page)
    assert args["charts"] == [{"key": "projection_PCA_train", "name": "pixel map"}]  # no model: one map
    assert args["split"] == "train"
    assert args["classes"] == class_names() and args["classes"][1] == "き (ki)"  # by the customdata's index
    train = args["sheets"]
    assert train["count"] == len(kmnist_data.x_train) and train["pages"] == -(-train["count"] // 1000)
    assert train["per_page"] == train["columns"] * train["rows"] == 1000 and train["tile"] == 28
    np.testing.assert_array_equal(served_images(train), kmnist_data.x_train)
    preview = next(column for column in page.columns
                   if any(s.value == "Selected image" for s in column.subheader))
    assert preview.get("component_instance"), "the hover thumbnail is not in the preview column"

    until_maps(page.radio(key="split").set_value("test").run())
    args = hover_args(page)
    assert args["charts"] == [{"key": "projection_PCA_test", "name": "pixel map"}] and args["split"] == "test"
    test = args["sheets"]
    assert test["key"] != train["key"] and test["count"] == len(kmnist_data.x_test)
    np.testing.assert_array_equal(served_images(test), kmnist_data.x_test)

    page.radio(key="projection_method").set_value("t-SNE").run()  # the sample's positions: same sheets
    page.select_slider(key="tsne_size").set_value(300).run()
    until_maps(page.button(key="tsne_compute").click().run())
    assert hover_args(page)["charts"] == [{"key": "projection_t-SNE_test", "name": "pixel map"}]
    assert hover_args(page)["sheets"] == test


def test_without_sprites_the_maps_stay_and_the_page_says_why(data_dir, monkeypatch):
    from kmnist.pictures import sprites
    from kmnist.registry.errors import ModelError
    from kmnist.ui.map_hover import component

    def refused(*args, **kwargs):
        raise ModelError("cannot write to /read-only (Permission denied)")

    def hover_components(app) -> list:
        return [e for e in app.get("component_instance") if e.proto.component_name.endswith("map_hover")]

    component._written_sheets.clear()  # written once per process: forget earlier tests' sheets
    monkeypatch.setattr(sprites, "write_sheets", refused)
    monkeypatch.setenv("KMNIST_DATA", str(data_dir))
    app = on_maps(AppTest.from_file(PAGE, default_timeout=120).run())
    assert not hover_components(app)
    assert any(c.value.startswith("No thumbnails on hover: cannot write to /read-only") for c in app.caption)
    assert chart_spec(app, "projection_PCA_train")["data"]  # the map is still there, clickable

    monkeypatch.undo()  # writable again: the failure was not cached, a later run writes the sheets
    monkeypatch.setenv("KMNIST_DATA", str(data_dir))
    app.run()
    assert not app.exception, app.exception
    assert hover_components(app)
    assert not any(c.value.startswith("No thumbnails on hover") for c in app.caption)


def test_other_class_examples_on_demand(page):
    # KMNIST records no writers: eight examples, not "eight writers"
    assert [t.label for t in page.tabs] == [GALLERY, "The ten classes, eight examples each", STATISTICS, MAPS]
    open_tab(page, VIEW_KEY, EXAMPLES)
    assert page.session_state["examples_seed"] == 0
    page.button(key="examples_shuffle").click().run()
    assert page.session_state["examples_seed"] == 1
    assert not page.exception


def column_holding(app, key_part: str) -> int:
    """The index (among the page's columns) of the column that holds the chart with `key_part` in its id."""
    return next(i for i, column in enumerate(app.columns)
                if any(key_part in chart.proto.id for chart in column.get("plotly_chart")))


def agreement(app, start: str) -> float:
    caption = next(c.value for c in app.caption if start in c.value)
    return float(re.search(r"([\d.]+)%", caption).group(1))


def test_learned_features_map_beside_the_pixel_map_follows_the_model(models_copy, data_dir, kmnist_data,
                                                                    monkeypatch):
    from kmnist.data import explore
    from kmnist.inspect import features as features_inspect

    calls = {"features": 0, "maps": 0}
    features, map_2d = features_inspect.learned_features, explore.map_2d

    def counted(name, function):
        def wrapper(*args, **kwargs):
            calls[name] += 1
            return function(*args, **kwargs)
        return wrapper

    monkeypatch.setattr(features_inspect, "learned_features", counted("features", features))
    monkeypatch.setattr(explore, "map_2d", counted("maps", map_2d))
    monkeypatch.setenv("KMNIST_DATA", str(data_dir))
    app = on_maps(AppTest.from_file(PAGE, default_timeout=180).run())
    assert app.selectbox(key="projection_model").value.name == "studio-max"
    pixels, learned = chart_spec(app, "projection_PCA_train"), chart_spec(app, "features_PCA_train")
    assert column_holding(app, "features_PCA_train") == column_holding(app, "projection_PCA_train") + 1
    assert "studio-max's learned features" in learned["layout"]["title"]["text"]
    total = kmnist_data.provenance.sizes["train"]
    assert sum(len(trace["customdata"]) for trace in learned["data"]) == total
    assert [t["name"] for t in learned["data"]] == [t["name"] for t in pixels["data"]]
    assert agreement(app, "layer `dense`") > agreement(app, "on this map")  # classes separate after learning
    assert hover_args(app)["charts"] == [{"key": "projection_PCA_train", "name": "pixel map"},
                                         {"key": "features_PCA_train", "name": "learned map"}]
    assert calls["features"] == 1

    started = time.perf_counter()
    app.run()  # nothing changed: nothing is recomputed
    rerun = time.perf_counter() - started
    print(f"\n[timing] Dataset explorer AppTest rerun, nothing changed: {rerun:.2f} s")
    assert calls["features"] == 1 and chart_spec(app, "features_PCA_train") == learned

    maps = calls["maps"]
    picker = app.selectbox(key="projection_model")
    until_maps(picker.select_index(next(i for i, name in enumerate(picker.options) if "studio-avg" in name))
               .run())
    assert calls["features"] == 2 and calls["maps"] == maps + 1  # the pixel map stays cached
    other = chart_spec(app, "features_PCA_train")
    assert "studio-avg's learned features" in other["layout"]["title"]["text"]
    assert other["data"][0]["x"] != learned["data"][0]["x"]
    assert chart_spec(app, "projection_PCA_train") == pixels

    app.radio(key="projection_method").set_value("t-SNE").run()
    app.select_slider(key="tsne_size").set_value(300).run()
    until_maps(app.button(key="tsne_compute").click().run())  # one press computes both maps
    positions = [[p[0] for t in chart_spec(app, f"{kind}_t-SNE_train")["data"] for p in t["customdata"]]
                 for kind in ("projection", "features")]
    assert len(positions[0]) == 300 and sorted(positions[0]) == sorted(positions[1])


def test_the_gallery_and_the_statistics_keep_their_choices_while_another_section_is_open(page, kmnist_data,
                                                                                       state_warnings):
    page.multiselect(key="gallery_classes").set_value([3]).run()
    page.number_input(key="gallery_page").set_value(3).run()
    open_tab(page, VIEW_KEY, STATISTICS).toggle(key="skip_background").set_value(False).run()
    open_tab(page, VIEW_KEY, EXAMPLES)
    open_tab(page, VIEW_KEY, GALLERY)
    assert page.multiselect(key="gallery_classes").value == [3]
    assert "page 3 of" in gallery_caption(page) and f"in class {CLASSES[3].label}" in gallery_caption(page)
    assert open_tab(page, VIEW_KEY, STATISTICS).toggle(key="skip_background").value is False
    assert not page.exception and not state_warnings()
