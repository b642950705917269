"""A class on one server: each student's name and default model name, and where the jobs train."""

from __future__ import annotations

import itertools
import re
import threading
import time

import streamlit as st

from kmnist.jobs import executors, ledger
from kmnist.jobs.cluster import CLUSTER_ENV, ClusterError
from kmnist.registry.pairs import pair_name
from kmnist.ui import keys

RETRY_SECONDS = 15.0        # how long a cluster that could not be reached is believed down before a new try

_students = itertools.count(1)
_connecting = threading.Lock()
_last_try: dict = {"at": 0.0, "error": None}  # the server's last attempt to reach the cluster


def student_name() -> str:
    """The name this session shows as the owner of its jobs: the one its student gave, else
    "Student N" (N counted on this server, so every session has its own)."""
    state = st.session_state
    if not state.get(keys.STUDENT_LABEL):
        state[keys.STUDENT_LABEL] = f"Student {next(_students)}"
    return plain(state.get(keys.STUDENT_NAME) or "") or state[keys.STUDENT_LABEL]


def plain(name: str) -> str:
    """A name as plain words: letters (any script), digits, spaces and . ' - only, since pages show it
    inside Markdown to the whole class (no links, colours or headings from a name)."""
    return " ".join(re.sub(r"[^\w\s.'-]|_", "", name).split())


def name_field() -> str:
    """Ask once for the name others see on this session's jobs (kept for the whole visit, every page)."""
    shown = student_name()
    st.text_input("Your name", key=keys.STUDENT_NAME, placeholder=shown, max_chars=40,
                  help="Shown to everyone as the owner of the runs you start, on every page, for this "
                       "visit. Only you can stop or cancel them.")
    return student_name()


def default_model_name(pooling: str) -> str:
    """This session's own starting name for a model: from the student's name when given
    ("aiko-max"), else my-model-max; the ledger numbers it if taken (ledger.with_free_names)."""
    given = re.sub(r"[^a-z0-9]+", "-", (st.session_state.get(keys.STUDENT_NAME) or "").lower()).strip("-")
    return pair_name(given[:40] or ledger.STUDENT_MODEL, pooling)


def training_place():
    """The executor the settings name, connected or prepared (the ledger trains with it), or None after
    saying why the cluster cannot be used. A failed connection is retried at most every RETRY_SECONDS, so
    a page never waits on a cluster that is down more than once in a while."""
    wanted = executors.cluster_address()
    current = ledger.executor()
    if not wanted:
        current.prepare()
        return current
    if getattr(current, "address", None) == wanted and current.cluster.connected:
        return current
    with _connecting:
        if _last_try["error"] is not None and time.monotonic() - _last_try["at"] < RETRY_SECONDS:
            error = _last_try["error"]
        else:
            try:
                ledger.use(executors.ClusterExecutor(wanted))
                _last_try.update(at=time.monotonic(), error=None)
                return ledger.executor()
            except ClusterError as refused:
                _last_try.update(at=time.monotonic(), error=str(refused))
                error = str(refused)
    st.error(f"**Training cannot start right now.** {error} (set by {CLUSTER_ENV})")
    return None


def where_training_runs(executor) -> None:
    """One line on where jobs train and how many at once."""
    st.caption(f":material/dns: Training runs {executor.describe()}.")
