"""The line of training jobs on a page: this session's place and estimated start, who trains, who waits,
what each run sets."""

from __future__ import annotations

import datetime as dt
import time

import streamlit as st

from kmnist.jobs import ledger as jobs
from kmnist.jobs import snapshots, wording
from kmnist.jobs.job import NotOwner
from kmnist.network import config as config_net
from kmnist.ui.resources import owner_id

SHOWN = 10  # waiting jobs listed by name; the rest of a long line is counted


def stop(job: jobs.Job) -> None:
    """Stop or cancel `job` for this session; the ledger checks it is this session's job."""
    try:
        job.stop(by=owner_id())
    except NotOwner as refused:
        st.warning(f"**Not stopped:** {refused}.")


def starts_in(job: jobs.Job) -> str:
    """"starts in about 1 min 10 s (at 10:42)", or "estimating…" until the pace is known."""
    seconds = jobs.estimated_start(job)
    if seconds is None:
        return "estimating… (known once the runs ahead have trained a few batches)"
    at = dt.datetime.fromtimestamp(time.time() + seconds).strftime("%H:%M")
    return f"starts in about {wording.format_seconds(seconds)} (at {at})"


def run_settings(runs, where=st) -> None:
    """Each run's settings, seed included: one caption per run, in `where` (a column or the page)."""
    for run in runs:
        where.caption(f"`{run.name}`: {config_net.describe_run(run.config)}.")


def my_place(key: str) -> None:
    """This session's own waiting job: its place, its estimated start, and Cancel."""
    mine = jobs.latest_of(owner_id())
    if mine is None or mine.state != snapshots.QUEUED:
        return
    text, button = st.columns([5, 1], vertical_alignment="center")
    text.info(f"**Your run** `{'`, `'.join(r.name for r in mine.runs)}` is number **{jobs.position(mine)}** "
              f"in line · {starts_in(mine)}.")
    run_settings(mine.runs, text)
    if button.button("Cancel", key=f"{key}-cancel-{mine.number}", help="Take your run out of the line."):
        stop(mine)
        st.rerun()


def the_class(watched: jobs.Job | None, key: str) -> None:
    """Whose runs train now (besides the watched one) and how long the line is, the first SHOWN of it
    by name."""
    others = [job for job in jobs.running() if job is not watched]
    if others:
        st.markdown("**Also training now:** " + " · ".join(
            f"**{snap.owner}** (`{'`, `'.join(snap.names)}`, {snap.progress.fraction:.0%})"
            for snap in (job.snapshot() for job in others)))
    line = jobs.waiting()
    if not line:
        return
    st.markdown(f"**Waiting their turn:** {len(line)} run{'s' if len(line) > 1 else ''} (at most "
                f"{jobs.MAX_WAITING}); each starts as soon as a place to train is free.")
    for place, job in enumerate(line[:SHOWN], start=1):
        snap = job.snapshot()
        mine = snap.owner_id == owner_id()
        text, button = st.columns([5, 1], vertical_alignment="center")
        text.markdown(f"{place}. `{'`, `'.join(snap.names)}` · by **{snap.owner}**"
                      f"{' (you)' if mine else ''} · {starts_in(job)}")
        if not mine:
            button.button("Cancel", key=f"{key}-cancel-other-{snap.number}", disabled=True,
                          help=f"Only {snap.owner} can cancel it.")
    if len(line) > SHOWN:
        st.caption(f"… and {len(line) - SHOWN} more.")
