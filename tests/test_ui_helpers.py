"""kmnist.ui's helpers: session keys, a chart click taken once, cached models and their stamps, who owns a
session, and the comparison view's refusals; Streamlit parts run in AppTest.from_function."""

import json

from streamlit.testing.v1 import AppTest

from kmnist.registry import store
from kmnist.ui import keys, resources


def test_session_keys_are_distinct():
    names = {name: value for name, value in vars(keys).items() if name.isupper()}
    assert len(names) >= 7 and len(set(names.values())) == len(names), names


# -- clicks: a click on a chart is taken once ---------------------------------------------------------------
def clicked_script():
    import streamlit as st

    from kmnist.ui.clicks import new_click

    st.session_state.setdefault("takes", []).append(new_click("chart"))


def click(at, *points: dict) -> None:
    """What Streamlit keeps of a chart selection: an object with .selection.points."""
    from types import SimpleNamespace

    at.session_state["chart"] = SimpleNamespace(selection=SimpleNamespace(points=list(points)))


def test_a_chart_click_is_taken_on_the_first_run_that_sees_it_only():
    at = AppTest.from_function(clicked_script).run()
    click(at, {"customdata": [2, 5]})
    at.run()
    at.run()  # a rerun for another widget: the same selection is still there
    click(at, {"customdata": [3, 1]})
    at.run()
    click(at, {"customdata": [9]})  # a point without two numbers: no cell
    at.run()
    assert not at.exception
    assert at.session_state["takes"] == [None, (2, 5), None, (3, 1), None]


# -- resources: stamps, owners, the model picker, errors shown with their fix ----------------------------
def test_model_stamps_change_when_the_model_its_card_or_its_twin_changes(tmp_path):
    path = tmp_path / "m.keras"
    path.write_bytes(b"model")
    alone = resources.model_stamps(path)
    assert alone[0] is not None and alone[1:] == (None, None)
    store.card_path(path).write_text("{}")
    with_card = resources.model_stamps(path)
    assert with_card[0] == alone[0] and with_card[1] is not None and with_card[2] is None
    store.onnx_path(path).write_bytes(b"twin")
    assert resources.model_stamps(path)[2] is not None
    path.write_bytes(b"another model, longer")
    assert resources.model_stamps(path)[0] != alone[0]


def owner_script():
    import streamlit as st

    from kmnist.ui.resources import owner_id

    st.session_state["seen"] = (owner_id(), owner_id())


def test_a_session_keeps_one_private_owner_id():
    at = AppTest.from_function(owner_script).run()
    first, again = at.session_state["seen"]
    assert first == again and len(first) == 32
    at.run()
    assert at.session_state["seen"][0] == first  # the same on every run of the session
    other = AppTest.from_function(owner_script).run()
    assert other.session_state["seen"][0] != first  # another session, another owner


def picker_script():
    import streamlit as st

    from kmnist.ui.resources import model_picker

    entry = model_picker(key="picked")
    st.session_state["name"] = None if entry is None else entry.name


def test_the_model_picker_offers_the_usable_models_and_says_when_there_are_none(tmp_path, monkeypatch):
    monkeypatch.setenv(store.MODELS_ENV, str(tmp_path))
    empty = AppTest.from_function(picker_script).run()
    assert not empty.exception and empty.session_state["name"] is None
    assert empty.warning[0].value.startswith("No trained model yet: train one on the **Training** page")
    (tmp_path / "b.keras").write_bytes(b"not checked here")
    (tmp_path / "a.keras").write_bytes(b"nor here")
    store.card_path(tmp_path / "a.keras").write_text(json.dumps({"status": "complete"}))
    store.card_path(tmp_path / "orphan.keras").write_text(json.dumps({"status": "complete"}))  # no model
    at = AppTest.from_function(picker_script).run()
    assert not at.exception
    options = at.selectbox(key="picked").options
    assert len(options) == 2 and options[0].startswith("a") and options[1] == "b"
    assert at.session_state["name"] == "a"
    at.selectbox(key="picked").set_value(next(e for e in store.list_models(tmp_path) if e.name == "b")).run()
    assert at.session_state["name"] == "b"
    assert "b: " in at.warning[0].value  # its problem (no card) is shown beside it


def broken_model_script(path):
    import streamlit as st

    from kmnist.registry.store import ModelEntry
    from kmnist.ui.resources import get_classifier, get_model

    entry = ModelEntry("gone", path, None)
    st.session_state["answers"] = (get_model(entry), get_classifier(entry))


def test_a_model_that_cannot_load_is_an_error_on_the_page_not_a_crash(tmp_path):
    at = AppTest.from_function(broken_model_script, args=(tmp_path / "gone.keras",)).run()
    assert not at.exception and at.session_state["answers"] == (None, None)
    assert [e.value.split(".")[0] for e in at.error] == ["**Cannot use model gone"] * 2


def missing_data_script():
    import streamlit as st

    from kmnist.ui.resources import get_data

    st.session_state["data"] = get_data(stop=False, link_home=False)  # no pages here to link to


def test_missing_data_is_an_error_that_names_the_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("KMNIST_DATA", str(tmp_path))
    at = AppTest.from_function(missing_data_script).run()
    assert not at.exception and at.session_state["data"] is None
    assert at.error[0].value.startswith("**No usable KMNIST data.**")
    assert str(tmp_path) in at.error[0].value


# -- comparison_view: what it says when there is not enough to compare ------------------------------------
def comparison_script(folder):
    from kmnist.registry import store
    from kmnist.ui.comparison_view import comparison_view

    comparison_view(list(store.list_models(folder)), key="cmp")


def test_comparing_needs_two_readable_cards_and_names_each_problem(tmp_path):
    (tmp_path / "lonely.keras").write_bytes(b"a model without a card")
    at = AppTest.from_function(comparison_script, args=(tmp_path,)).run()
    assert not at.exception
    assert at.warning[0].value.startswith("lonely: ")
    assert at.info[0].value == "Comparing needs at least two models with a readable model card."
    assert not at.get("plotly_chart")  # nothing to draw


def test_a_student_name_is_shown_as_plain_words():
    from kmnist.ui.classroom import plain

    assert plain("  Aiko   Tanaka ") == "Aiko Tanaka"
    assert plain("お名前 O'Neil-Smith Jr.") == "お名前 O'Neil-Smith Jr."
    assert plain("[me](http://x) **big** _it_ :red[x] # h1 `code`") == "mehttpx big it redx h1 code"


# -- a running job's figures: built once per new record for every session watching it ----------------------
def test_a_job_s_figures_are_built_once_per_new_record_for_every_watcher():
    from types import MappingProxyType, SimpleNamespace

    from kmnist.ui import jobs_view

    built = []

    def build(records):
        built.append(len(records))
        return object()

    records = [MappingProxyType({"kind": "batch", "n": n}) for n in range(3)]

    def snapshot(number=1):  # what two sessions' polls see: a fresh tuple of the very same records
        return SimpleNamespace(number=number, names=["run"], records=tuple(records))

    first = jobs_view._shared(snapshot(), "curves", build)
    assert jobs_view._shared(snapshot(), "curves", build) is first and built == [3]
    records.append(MappingProxyType({"kind": "batch", "n": 3}))
    assert jobs_view._shared(snapshot(), "curves", build) is not first and built == [3, 4]
    jobs_view._shared(snapshot(number=2), "curves", build)  # another job, with records like these
    assert built == [3, 4, 4]
