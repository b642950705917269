"""Training jobs on a page: start or queue one (or say why not), watch it live, read its results."""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict

import streamlit as st

from kmnist.charts import dataset
from kmnist.charts import training as training_charts
from kmnist.data.classes import CLASSES
from kmnist.evaluation import metrics
from kmnist.jobs import ledger as jobs
from kmnist.jobs import snapshots
from kmnist.network import config as config_net
from kmnist.pictures import training as glimpses
from kmnist.registry import store
from kmnist.registry.cards import Status
from kmnist.ui import line_view
from kmnist.ui.classroom import student_name
from kmnist.ui.confusion_view import confusion_explorer
from kmnist.ui.model_card import model_files, test_metrics
from kmnist.ui.resources import owner_id


def start_job(runs: list[snapshots.Run], data, pair: bool = False,
              free_names: bool = False) -> jobs.Job | None:
    """Start training `runs` in the background (or queue them), or show why not (full line, bad
    settings). The owner is this session's student (kmnist.ui.classroom); with `free_names` a default
    name already taken becomes the next free one instead of a refusal."""
    try:
        job = jobs.start(runs, student_name(), data, pair=pair, owner_id=owner_id(), free_names=free_names)
    except jobs.JobBusy as busy:
        st.warning(f"**Not started.** {busy}.")
    except jobs.JobError as error:
        st.error("**Nothing was started.** Fix these settings and press the button again:\n\n"
                 + "\n".join(f"- {problem}" for problem in error.problems))
    else:
        if job.state == snapshots.QUEUED:
            names = "`, `".join(run.name for run in job.runs)
            st.info(f"**Queued**, number {jobs.position(job)} in line: `{names}` starts by itself when a "
                    "place to train is free (see below). You can cancel it until then.")
        return job
    return None


# How often a watching page redraws a running job. Every redraw that changes a chart costs the browser
# (Plotly) and the server CPU, which a training process on the same cores loses. So the cheap part
# (progress, ETA, Stop, the line) is redrawn every STATUS_SECONDS and the charts, which change every
# batch, every CHART_SECONDS.
STATUS_SECONDS = 2.0
CHART_SECONDS = 5.0


def watched() -> jobs.Job | None:
    """The job this session watches: its own running or last job, else the first running one (or the
    last that ended, so its results stay visible)."""
    mine = jobs.latest_of(owner_id())
    if mine is not None and mine.state != snapshots.QUEUED:
        return mine
    return jobs.current()


def _scene(job: jobs.Job | None) -> tuple:
    """What decides the monitor's layout: the watched job and its state, who runs, who waits."""
    return ((job.number, job.state) if job else None, tuple(j.number for j in jobs.running()),
            tuple(j.number for j in jobs.waiting()))


def training_monitor(key: str, detail: bool = True) -> None:
    """Watch the server's jobs: this session's own run (or, without one, the first running one) with
    progress, live charts, Stop and then its results; who else trains; the line, with this session's
    place and estimated start.

    Only the session that started a job can stop or cancel it; everyone else sees it read-only. While a
    job runs or waits, two fragments redraw themselves (the status every STATUS_SECONDS, the charts every
    CHART_SECONDS); when a job starts or ends the whole page reruns once, so the page shows the results
    and polls only while there is something to watch.
    """
    job = watched()
    scene = _scene(job)
    if scene == (None, (), ()):
        return
    running = job is not None and job.state in snapshots.ACTIVE
    polling = bool(scene[1] or scene[2])

    @st.fragment(run_every=STATUS_SECONDS if polling else None)
    def status():
        if polling and _scene(watched()) != scene:
            st.rerun()
        line_view.my_place(key)
        if job is not None:
            _job_status(job, job.snapshot(), key)
        line_view.the_class(job, key)

    @st.fragment(run_every=CHART_SECONDS if running else None)
    def live_charts():
        _job_charts(job.snapshot(), key, detail)

    status()
    if job is not None:
        live_charts()


_STATE_WORDS = {snapshots.RUNNING: ":green[:material/autorenew: training]",
                snapshots.STOPPING: ":orange[:material/pending: stopping at the next batch]",
                snapshots.FINISHED: ":green[:material/check_circle: finished]",
                snapshots.STOPPED: ":gray[:material/stop_circle: stopped]",
                snapshots.FAILED: ":red[:material/error: failed]"}


def _clock(timestamp: float) -> str:
    return dt.datetime.fromtimestamp(timestamp).strftime("%H:%M:%S")


def _job_status(job: jobs.Job, snap: snapshots.Snapshot, key: str) -> None:
    """Who runs what and how far it is: the job's line, progress with ETA, Stop for its owner; or how it
    ended."""
    when = (f"started at {_clock(snap.started_at)}" if snap.started_at is not None else
            f"queued at {_clock(snap.queued_at)}")
    st.markdown(f"**Training job** `{'`, `'.join(snap.names)}` · by **{snap.owner}** · {when} · "
                f"{_STATE_WORDS.get(snap.state, snap.state)}")
    line_view.run_settings(snap.runs)
    if snap.active:
        st.progress(snap.progress.fraction, text=snap.progress.text)
        mine = snap.owner_id == owner_id()
        if snap.state == snapshots.RUNNING and st.button(
                "Stop training", icon=":material/stop_circle:", key=f"{key}-stop", disabled=not mine,
                help="Ends training at the next batch; the best epoch so far stays saved." if mine else
                f"Only {snap.owner}, who started this run, can stop it."):
            line_view.stop(job)
            st.info("Stopping at the next batch: the best checkpoint so far is kept.")
    elif snap.state == snapshots.FAILED:
        st.error(snap.error)
    elif snap.error:  # stopped the hard way
        st.warning(snap.error)


def _job_charts(snap: snapshots.Snapshot, key: str, detail: bool) -> None:
    """The job's live curves (and, in detail, what the network sees), then each finished run's results."""
    if snap.records:
        st.plotly_chart(_shared(snap, "curves", training_charts.training_curves), key=f"{key}-curves")
        shown = snap.current_run or snap.names[-1]
        st.caption(config_net.validation_note(next(r.config for r in snap.runs if r.name == shown)))
        if detail:
            _inside_view(snap, key)
    elif snap.active:
        st.caption("Starting the training process and building the model… the first curves appear after the "
                   "first batches.")
    for report in snap.reports:
        _run_results(report, key, detail)


_SHARED_LOCK = threading.Lock()
_SHARED: OrderedDict = OrderedDict()  # (job number, names, what) -> (first record, last record, count, value)
SHARED_KEPT = 32  # figures and pictures kept: a few for each job on screen


def _shared(snap: snapshots.Snapshot, what: str, build):
    """`build(records)` for a job's records as they are now, built once for every session that watches
    the job: a class of 30 polls the same running job every second, and a Plotly figure takes 40-80 ms
    to build. A new record (records only grow, and are kept as the very same objects) builds anew."""
    records = snap.records
    key = (snap.number, tuple(snap.names), what)
    with _SHARED_LOCK:
        kept = _SHARED.get(key)
    if kept is not None and kept[2] == len(records) and kept[0] is records[0] and kept[1] is records[-1]:
        return kept[3]
    value = build(list(records))
    with _SHARED_LOCK:
        _SHARED[key] = (records[0], records[-1], len(records), value)
        _SHARED.move_to_end(key)
        while len(_SHARED) > SHARED_KEPT:
            _SHARED.popitem(last=False)
    return value


def _inside_view(snap: snapshots.Snapshot, key: str) -> None:
    """The latest run's validation strip and first-layer filters, as the last epoch left them."""
    strip = _shared(snap, "strip", glimpses.validation_strip)
    filters = _shared(snap, "filters", glimpses.first_layer_filters)
    if strip is None or filters is None:
        return
    left, right = st.columns([3, 2])
    left.markdown(f"**{strip.title}**")
    left.image(strip.picture, alt="A row of validation images, one per class, each with the class the "
                                   "network predicts for it and how sure it is")
    left.caption("The same validation images all run, one per class: under each, the class the network "
                 "predicts after the latest epoch and how sure it is (green right, red wrong).")
    right.markdown(f"**{filters.title}**")
    right.image(filters.picture, alt="The first convolution's 3x3 filters as small red and blue squares "
                                     "(red weighs ink, blue background)")
    right.caption("The first layer's filters, redrawn after each epoch: they start as random noise and "
                  "turn into detectors of edges and strokes (red wants ink, blue wants background).")


def _run_results(report: snapshots.RunReport, key: str, detail: bool) -> None:
    result = report.result
    if not report.saved:
        st.warning(f"**{report.name}**: {result.message}")
        return
    card, test = result.card, result.test
    stopped = " Training was stopped early by Stop; the best epoch before that was kept." \
        if result.status == Status.STOPPED else ""
    st.success(f"**{report.name}** saved to `{result.model_path}` with its model card "
               f"`{store.card_path(result.model_path).name}` (status: {result.status}, "
               f"best epoch {card.best_epoch} of {card.epochs_run}).{stopped} "
               "Pick it on the Layer visualizer or Sketch pad pages.")
    named = f"{key}-{report.name}"
    test_metrics(card)
    model_files(result.model_path, named)
    if not detail or test is None:
        return
    left, right = st.columns(2)
    right.plotly_chart(training_charts.per_class_bar(test.per_class_accuracy), key=f"{named}-classes")
    if report.predicted is None:
        left.plotly_chart(training_charts.confusion_heatmap(test.confusion), key=f"{named}-confusion")
        return
    with left:
        confusion_explorer(report.labels, report.predicted, report.images, f"{key}-{report.name}",
                           report.name)
    wrong = metrics.misclassified(report.labels, report.predicted, limit=40)
    total = int((report.labels != report.predicted).sum())
    st.markdown(f"**Misclassified test images** ({len(wrong)} of {total} shown, every class in turn; "
                "caption: true → predicted)")
    captions = [f"{CLASSES[report.labels[i]].char}→{CLASSES[report.predicted[i]].char}" for i in wrong]
    st.plotly_chart(dataset.labelled_gallery(report.images[wrong], captions), key=f"{named}-wrong")

