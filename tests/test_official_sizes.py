"""The official sizes, 60,000 training and 10,000 test images (the shared images tiled, in a temporary
folder): every page renders, the default training runs, and (a benchmark) each page's first render is
timed against today's copy."""

import json
import time

import numpy as np
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from kmnist.data import explore
from kmnist.data import files as kdata
from kmnist.data.origins import OFFICIAL_SIZES
from kmnist.ui.dataset_sections import EXAMPLES, STATISTICS, VIEW_KEY
from kmnist.ui.navigation import DATASET, PAGES
from tests.conftest import ROOT, open_tab
from tests.test_app_dataset import on_maps
from tests.test_cli import kmnist_here


@pytest.fixture(scope="module")
def official_size(tmp_path_factory, shared_copies):
    """A copy at the official sizes: kmnist-subset's images repeated, compressed like the official files."""
    folder = tmp_path_factory.mktemp("official-size")
    subset = shared_copies["kmnist-subset"]
    for split, size in OFFICIAL_SIZES.items():
        images, labels = subset.split(split)
        tiled = np.resize(np.arange(len(labels)), size)
        images_file, labels_file = kdata.SPLIT_FILES[split]
        np.savez_compressed(folder / images_file, images[tiled])
        np.savez_compressed(folder / labels_file, labels[tiled])
    return folder


def empty_caches() -> None:
    st.cache_data.clear()
    st.cache_resource.clear()


def render(page_path: str) -> AppTest:
    return AppTest.from_file(str(ROOT / page_path), default_timeout=600).run()


def first_render(page_path: str) -> tuple[float, AppTest]:
    """Seconds of a page's first script run with every Streamlit cache empty (data and models load anew)."""
    empty_caches()
    started = time.perf_counter()
    app = render(page_path)
    return time.perf_counter() - started, app


def check_page(app: AppTest, page) -> None:
    """A page rendered at the official sizes without an error; the Dataset explorer's maps show a sample."""
    assert not app.exception, (page.title, app.exception)
    assert not app.error, (page.title, [e.value for e in app.error])
    if page is DATASET:  # 60,000 training images: every section; the maps show a sample
        for section in (EXAMPLES, STATISTICS):
            assert not open_tab(app, VIEW_KEY, section).exception, section
        app = on_maps(app)  # computed in the background while the page is already usable
        for chart in (c for c in app.get("plotly_chart") if "_PCA_train" in c.proto.id):
            points = sum(len(trace["customdata"]) for trace in json.loads(chart.proto.spec)["data"])
            assert points == explore.MAP_POINTS, chart.proto.id
        assert any(f"{explore.MAP_POINTS:,} of the 60,000 train images" in str(c.proto)
                   for c in app.get("plotly_chart"))


def test_every_page_renders_at_the_official_sizes(official_size, models_copy, monkeypatch):
    """Caches emptied once: the pages share the data and models loaded at these sizes, as in the app."""
    monkeypatch.setenv(kdata.DATA_ENV, str(official_size))
    empty_caches()
    for page in PAGES:
        check_page(render(page.path), page)


@pytest.mark.benchmark  # a speed measurement: run alone (pytest -m benchmark -n 0)
def test_first_renders_at_the_official_sizes_against_today_s(official_size, data_dir, models_copy,
                                                              monkeypatch):
    """Prints each page's first render (every cache empty) on today's copy and at the official sizes."""
    seconds = {}
    for copy, folder in (("today", data_dir), ("official", official_size)):
        monkeypatch.setenv(kdata.DATA_ENV, str(folder))
        for page in PAGES:
            seconds[copy, page.title], app = first_render(page.path)
            if copy == "official":
                check_page(app, page)
    rows = [f"{page.title:<18} {seconds['today', page.title]:7.2f} s {seconds['official', page.title]:7.2f} "
            f"s {seconds['official', page.title] / seconds['today', page.title]:6.2f}" for page in PAGES]
    print(f"\nFirst render, every cache empty: {kdata.load(data_dir).provenance.sizes} vs 60,000 / 10,000\n"
          f"{'page':<18} {'today':>9} {'official':>9} {'ratio':>6}\n" + "\n".join(rows))


def test_the_default_training_runs_and_the_command_line_evaluates_at_the_official_sizes(official_size,
                                                                                       tmp_path):
    from kmnist.network.recipes import DEFAULT_RECIPE, recipe
    from kmnist.training.run import train

    data = kdata.load(official_size)
    assert data.provenance.sizes == OFFICIAL_SIZES
    model = tmp_path / "big.keras"  # the default recipe, cut short (its data handling and test are whole)
    result = train(recipe(DEFAULT_RECIPE, epochs=1, limit=1000), data, model)
    assert result.card.test.count == 10_000 and result.card.data.used["train"] == 800
    done = kmnist_here("evaluate", model, "--data", official_size)  # the CLI, in this process
    assert done.returncode == 0, done.stderr[-2000:]
    assert "60,000 train / 10,000 test images" in done.stdout
    assert "on the 10,000 test images, none of which big trained on" in done.stdout  # the same copy
