"""kmnist.ui.navigation: the page registry app.py and Home share; the deep-link fix's hold on Streamlit."""

import inspect

import pytest
from streamlit.runtime import pages_manager
from streamlit.runtime.scriptrunner import script_runner

from kmnist.ui import navigation
from tests.conftest import ROOT


def test_every_page_file_is_registered_once_and_exists():
    paths = [page.path for page in navigation.PAGES]
    page_files = [path for path in (ROOT / "pages").glob("*.py") if path.name != "__init__.py"]
    assert len(set(paths)) == len(paths) == len(page_files)
    assert all((ROOT / path).is_file() for path in paths)
    assert navigation.PAGES[0] is navigation.HOME
    assert navigation.HOME.header == ":material/history_edu: KMNIST Studio"
    assert all(page.icon.startswith(":material/") for page in navigation.PAGES)  # no emoji: they need a font
    assert all(page.teaches for page in navigation.PAGES[1:])


def test_compare_runs_sits_between_training_and_the_layer_visualizer():
    pages = list(navigation.PAGES)
    assert pages.index(navigation.COMPARE) == pages.index(navigation.TRAINING) + 1
    assert pages.index(navigation.LAYERS) == pages.index(navigation.COMPARE) + 1
    assert navigation.COMPARE.title == "Compare runs" and navigation.COMPARE.icon.startswith(":material/")


def test_every_page_starts_with_its_own_header():
    for page in navigation.PAGES:
        source = (ROOT / page.path).read_text()
        constant = next(name for name, value in vars(navigation).items() if value is page and name.isupper())
        assert f"page_header({constant})" in source, f"{page.path} must call page_header({constant})"


def test_the_flag_ensure_navigation_clears_is_the_one_streamlit_reads():
    """ensure_navigation relies on Streamlit internals; this fails if an upgrade moves them.

    The script runner must still choose the legacy pages/ mode by PagesManager.uses_pages_directory, and
    st.navigation must still clear that same flag (so clearing it is what st.navigation would do).
    """
    assert hasattr(pages_manager.PagesManager, "uses_pages_directory")
    assert "PagesManager.uses_pages_directory" in inspect.getsource(script_runner.ScriptRunner)
    from streamlit.commands import navigation as st_navigation

    assert "PagesManager.uses_pages_directory = False" in inspect.getsource(st_navigation.navigation)


def test_app_py_starts_the_app_only_as_main(monkeypatch):
    """A spawned training process re-imports app.py as __mp_main__: it must not run the pages there."""
    import runpy

    import streamlit

    def refuse(*args, **kwargs):
        raise AssertionError("app.py started the app in a training process")

    monkeypatch.setattr(streamlit, "navigation", refuse)
    monkeypatch.setattr(streamlit, "set_page_config", refuse)
    runpy.run_path(str(ROOT / "app.py"), run_name="__mp_main__")
    with pytest.raises(AssertionError, match="started the app"):
        runpy.run_path(str(ROOT / "app.py"), run_name="__main__")
