"""Streamlit helpers shared by the pages: cached data and models, status banners, pickers."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from kmnist import data as kdata
from kmnist import store

LAST_DRAWING_KEY = "last_drawing"  # session_state: the (28, 28) float image the sketch pad last sent
_NAVIGATION_CHECKED = "_navigation_checked"  # session_state: ensure_navigation already rerun this session


def ensure_navigation() -> None:
    """Run this page through app.py's navigation, even on a fresh server's first deep-link request.

    Because a pages/ folder exists, Streamlit runs the first request after a server start to a URL
    such as /sketch in its old multipage mode: the page alone, without app.py's page config and
    navigation, until app.py's st.navigation has run once. Clearing that flag and rerunning sends the
    run through app.py, which shows the same page with the app's navigation. Once per session at
    most: a rerun drops the widget event of its run (AppTest puts every run in that mode again).
    """
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory and not st.session_state.get(_NAVIGATION_CHECKED):
        st.session_state[_NAVIGATION_CHECKED] = True
        PagesManager.uses_pages_directory = False
        st.rerun()


@st.cache_resource(show_spinner="Loading KMNIST…")
def _load_data(directory: str, stamp: tuple) -> kdata.KMNISTData:
    return kdata.load(directory)


def _stamp(directory: Path) -> tuple:
    """Changes when the files change, so a fixed or re-downloaded copy is picked up."""
    return tuple((p.name, p.stat().st_mtime_ns, p.stat().st_size)
                 for p in sorted(directory.glob("kmnist-*.npz")))


def get_data(stop: bool = True, link_home: bool = True) -> kdata.KMNISTData | None:
    """The cached data set, or (after showing the error and its fix) None / st.stop()."""
    directory = kdata.default_data_dir()
    try:
        return _load_data(str(directory), _stamp(directory) if directory.is_dir() else ())
    except kdata.DataError as error:
        st.error(f"**No usable KMNIST data.** {error}")
        if link_home:
            st.page_link("pages/home.py", label="Go to Home to download it", icon="🏠")
        if stop:
            st.stop()
        return None


def provenance_note(data: kdata.KMNISTData) -> None:
    """One line under a page title saying which copy of KMNIST is shown."""
    if data.provenance.official:
        st.caption(f"✅ {data.provenance.summary}")
    else:
        st.caption(f"⚠️ {data.provenance.summary}")


@st.cache_resource(show_spinner="Loading model…", max_entries=8)
def _load_model(path: str, stamp: tuple):
    return store.load_model(Path(path))


def get_model(entry: store.ModelEntry):
    """The cached, shared model of `entry` (never train it), or None after showing the error."""
    try:
        stat = entry.path.stat()
        return _load_model(str(entry.path), (stat.st_mtime_ns, stat.st_size))
    except (store.ModelError, OSError) as error:
        st.error(f"**Cannot use model {entry.name}.** {error}")
        return None


def model_picker(label: str = "Model", key: str | None = None) -> store.ModelEntry | None:
    """A selectbox of usable models in models_dir(), default model first; shows its card summary."""
    entries = [e for e in store.list_models() if e.usable]
    if not entries:
        st.warning("No trained model yet: train one on the **Training** page "
                   "(or restore the shipped models in `models/`).")
        return None
    entry = st.selectbox(label, entries, key=key, format_func=lambda e: _model_label(e))
    if entry.problem:
        st.warning(f"{entry.name}: {entry.problem}")
    return entry


def _model_label(entry: store.ModelEntry) -> str:
    test = (entry.card or {}).get("test") or {}
    accuracy = f" · test acc {test['accuracy']:.1%}" if "accuracy" in test else ""
    return f"{entry.name}{accuracy}"


# -- the server's training job: live progress and charts, Stop, results (Training and Pooling pages) -----
def session_label() -> str:
    """A short id of this browser session, used as the owner of a job when no name is given."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    context = get_script_run_ctx()
    return f"session {context.session_id[:8]}" if context else "a session"


def training_monitor(key: str, detail: bool = True) -> None:
    """Watch the server's training job (whoever started it): progress, live charts, Stop, then results.

    While the job runs, a fragment redraws itself every second; when the job ends it reruns the page
    once, so the page shows the results and stops polling.
    """
    from kmnist import jobs

    job = jobs.current()
    if job is None:
        return
    polling = job.state in jobs.ACTIVE

    @st.fragment(run_every=1.0 if polling else None)
    def monitor():
        snap = job.snapshot()
        if polling and not snap.active:
            st.rerun()
        _job_view(job, snap, key, detail)

    monitor()


_STATE_WORDS = {"running": "🟢 training", "stopping": "🟠 stopping at the next batch",
                "finished": "✅ finished", "stopped": "⏹️ stopped", "failed": "❌ failed"}


def _job_view(job, snap, key: str, detail: bool) -> None:
    import datetime as dt

    from kmnist import charts, jobs

    started = dt.datetime.fromtimestamp(snap.started).strftime("%H:%M:%S")
    st.markdown(f"**Training job** `{'`, `'.join(snap.names)}` · started by **{snap.owner}** at {started} · "
                f"{_STATE_WORDS.get(snap.state, snap.state)}")
    if snap.active:
        st.progress(snap.progress.fraction, text=snap.progress.text)
        if snap.state == jobs.RUNNING and st.button(
                "⏹️ Stop training", key=f"{key}-stop", help="Ends training at the next batch for everyone "
                "watching; the best epoch so far stays saved."):
            job.stop()
            st.info("Stopping at the next batch: the best checkpoint so far is kept.")
    elif snap.state == jobs.FAILED:
        st.error(snap.error)
    if snap.records:
        st.plotly_chart(charts.training_curves(list(snap.records)), key=f"{key}-curves")
    elif snap.active:
        st.caption("Preparing data and building the model… the first curves appear after the first batches.")
    for report in snap.reports:
        _run_results(report, key, detail)


def _run_results(report, key: str, detail: bool) -> None:
    from kmnist import charts, metrics

    result = report.result
    if not report.saved:
        st.warning(f"**{report.name}**: {result.message}")
        return
    test = result.test or {}
    stopped = " Training was stopped early by Stop; the best epoch before that was kept." \
        if result.status == "stopped" else ""
    st.success(f"**{report.name}** saved to `{result.model_path}` with its model card "
               f"`{result.model_path.name.removesuffix('.keras')}.card.json` (status: {result.status}, "
               f"best epoch {result.card.get('best_epoch')} of {result.card.get('epochs_run')}).{stopped} "
               "Pick it on the Layer visualizer or Sketch pad pages.")
    columns = st.columns(4)
    columns[0].metric("Test accuracy", f"{test.get('accuracy', float('nan')):.2%}")
    columns[1].metric("Macro AUC", f"{test.get('macro_auc', float('nan')):.4f}",
                      help="Area under the ROC curve, one class against the rest, averaged over the 10 "
                           "classes: the chance that a random image of a class gets a higher score for "
                           "that class than a random image of another class (1 = perfect, 0.5 = guessing).")
    columns[2].metric("Test loss", f"{test.get('loss', float('nan')):.3f}")
    columns[3].metric("Training time", f"{result.card.get('training_seconds', 0):.0f} s")
    if not detail:
        return
    left, right = st.columns(2)
    left.plotly_chart(charts.confusion_heatmap(test["confusion"]), key=f"{key}-{report.name}-confusion")
    right.plotly_chart(charts.per_class_bar(test["per_class_accuracy"]), key=f"{key}-{report.name}-classes")
    data = get_data(stop=False)
    if data is None or report.predicted is None:
        return
    from kmnist.classes import CLASSES

    wrong = metrics.misclassified(data.y_test, report.predicted, limit=40)
    total = int((data.y_test != report.predicted).sum())
    st.markdown(f"**Misclassified test images** ({len(wrong)} of {total} shown, every class in turn; "
                "caption: true → predicted)")
    captions = [f"{CLASSES[data.y_test[i]].char}→{CLASSES[report.predicted[i]].char}" for i in wrong]
    st.plotly_chart(charts.labelled_gallery(data.x_test[wrong], captions), key=f"{key}-{report.name}-wrong")


# -- a model's card: where its data came from, how it was trained, how well it does -----------------------
def model_card(entry: store.ModelEntry, expanded: bool = False) -> None:
    """An expander with the model card of `entry`: data provenance, training config, test metrics."""
    card = entry.card or {}
    test = card.get("test") or {}
    config = card.get("config") or {}
    data = card.get("data") or {}
    with st.expander(f"Model card: {entry.name}", expanded=expanded):
        if not card:
            st.warning("This model has no card: the data it was trained on and its accuracy are unknown.")
            return
        columns = st.columns(4)
        columns[0].metric("Test accuracy", f"{test['accuracy']:.2%}" if "accuracy" in test else "–")
        columns[1].metric("Macro AUC", f"{test['macro_auc']:.4f}" if "macro_auc" in test else "–",
                          help="Area under the ROC curve, one class against the rest, averaged over the "
                               "10 classes (1 = perfect, 0.5 = guessing).")
        columns[2].metric("Parameters", f"{card.get('parameters', 0):,}")
        columns[3].metric("Status", card.get("status", "unknown"))
        if data:
            note = "✅" if data.get("official") else "⚠️"
            st.caption(f"{note} Trained on: {data.get('summary', data.get('directory', 'unknown data'))}")
        if config:
            st.caption("Training config: " + ", ".join(f"{k} = {v}" for k, v in config.items()))
