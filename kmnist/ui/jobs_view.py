"""The training job on a page: start it (or say why not), watch it live, read its results; model cards."""

from __future__ import annotations

import datetime as dt

import streamlit as st

from kmnist import cards, charts, jobs, metrics, store
from kmnist.classes import CLASSES
from kmnist.ui.resources import session_label


def start_job(runs: list[jobs.Run], owner: str, data, pair: bool = False) -> jobs.Job | None:
    """Start training `runs` in the background, or show why not (busy server, invalid settings)."""
    try:
        return jobs.start(runs, owner.strip() or session_label(), data, pair=pair)
    except jobs.JobBusy as busy:
        st.warning(f"**Not started.** {busy}.")
    except jobs.JobError as error:
        st.error("**Nothing was started.** Fix these settings and press the button again:\n\n"
                 + "\n".join(f"- {problem}" for problem in error.problems))
    return None


def training_monitor(key: str, detail: bool = True) -> None:
    """Watch the server's training job (whoever started it): progress, live charts, Stop, then results.

    While the job runs, a fragment redraws itself every second; when the job ends it reruns the page
    once, so the page shows the results and stops polling.
    """
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


_STATE_WORDS = {jobs.RUNNING: "🟢 training", jobs.STOPPING: "🟠 stopping at the next batch",
                jobs.FINISHED: "✅ finished", jobs.STOPPED: "⏹️ stopped", jobs.FAILED: "❌ failed"}


def _job_view(job: jobs.Job, snap: jobs.Snapshot, key: str, detail: bool) -> None:
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


def _run_results(report: jobs.RunReport, key: str, detail: bool) -> None:
    result = report.result
    if not report.saved:
        st.warning(f"**{report.name}**: {result.message}")
        return
    test = result.test or {}
    stopped = " Training was stopped early by Stop; the best epoch before that was kept." \
        if result.status == cards.STOPPED else ""
    st.success(f"**{report.name}** saved to `{result.model_path}` with its model card "
               f"`{store.card_path(result.model_path).name}` (status: {result.status}, "
               f"best epoch {result.card.get('best_epoch')} of {result.card.get('epochs_run')}).{stopped} "
               "Pick it on the Layer visualizer or Sketch pad pages.")
    _test_metrics(test, result.card.get("training_seconds", 0))
    if not detail:
        return
    left, right = st.columns(2)
    left.plotly_chart(charts.confusion_heatmap(test["confusion"]), key=f"{key}-{report.name}-confusion")
    right.plotly_chart(charts.per_class_bar(test["per_class_accuracy"]), key=f"{key}-{report.name}-classes")
    if report.predicted is None:
        return
    wrong = metrics.misclassified(report.labels, report.predicted, limit=40)
    total = int((report.labels != report.predicted).sum())
    st.markdown(f"**Misclassified test images** ({len(wrong)} of {total} shown, every class in turn; "
                "caption: true → predicted)")
    captions = [f"{CLASSES[report.labels[i]].char}→{CLASSES[report.predicted[i]].char}" for i in wrong]
    st.plotly_chart(charts.labelled_gallery(report.images[wrong], captions), key=f"{key}-{report.name}-wrong")


AUC_HELP = ("Area under the ROC curve, one class against the rest, averaged over the 10 classes: the chance "
            "that a random image of a class gets a higher score for that class than a random image of "
            "another class (1 = perfect, 0.5 = guessing).")


def _test_metrics(test: dict, seconds: float) -> None:
    columns = st.columns(4)
    columns[0].metric("Test accuracy", f"{test.get('accuracy', float('nan')):.2%}")
    columns[1].metric("Macro AUC", f"{test.get('macro_auc', float('nan')):.4f}", help=AUC_HELP)
    columns[2].metric("Test loss", f"{test.get('loss', float('nan')):.3f}")
    columns[3].metric("Training time", f"{seconds:.0f} s")


# -- a model's card: where its data came from, how it was trained, how well it does -----------------------
def model_card(entry: store.ModelEntry, expanded: bool = False) -> None:
    """An expander with the model card of `entry`: data provenance, training config, test metrics."""
    card = entry.card or {}
    test = card.get("test") or {}
    config = card.get("config") or {}
    data = card.get("data") or {}
    with st.expander(f"Model card: {entry.name}", expanded=expanded):
        if not card:
            st.warning(entry.problem or "This model has no card: the data it was trained on and its "
                                        "accuracy are unknown.")
            return
        columns = st.columns(4)
        columns[0].metric("Test accuracy", f"{test['accuracy']:.2%}" if "accuracy" in test else "–")
        columns[1].metric("Macro AUC", f"{test['macro_auc']:.4f}" if "macro_auc" in test else "–",
                          help=AUC_HELP)
        columns[2].metric("Parameters", f"{card.get('parameters', 0):,}")
        columns[3].metric("Status", card.get("status", "unknown"))
        if data:
            note = "✅" if data.get("official") else "⚠️"
            st.caption(f"{note} Trained on: {data.get('summary', data.get('name', 'unknown data'))}")
        if config:
            st.caption("Training config: " + ", ".join(f"{k} = {v}" for k, v in config.items()))
