"""The Dataset explorer's maps on the page: asked of the background (kmnist.ui.map_tasks), one MapWork per
copy of the data shared by every session, their progress shown while they compute, their failures shown
with the reason."""

from __future__ import annotations

import streamlit as st

from kmnist.ui.map_tasks import MapWork, Task

POLL_SECONDS = 1.0  # how often a page waiting for a map looks at its progress (each look redraws the page:
#                    at 0.5 s a waiting Dataset explorer kept a browser core 80-90 % busy)


@st.cache_resource(show_spinner=False, max_entries=4)
def shared_work(data_key: str) -> MapWork:
    """The one MapWork of the copy of the data named `data_key` (kmnist.data.files.data_key), shared by
    every session of this server."""
    return MapWork(data_key)


@st.fragment(run_every=POLL_SECONDS)
def progress_view(task: Task, key: str) -> None:
    """`task`'s progress bar (in a container with `key`), redrawn every POLL_SECONDS; once the task has
    finished, the page reruns to show its result, which also ends this polling (the page no longer draws
    it)."""
    if task.done:
        st.rerun()
    with st.container(key=key):
        seconds = f" · {task.seconds():.0f} s" if task.started is not None else ""
        st.progress(task.fraction, text=f"{task.label}: {task.stage}{seconds}")
        st.caption("Computed once in the background for everyone using this copy of the data; the rest "
                   "of the page works meanwhile.")


def finished(work: MapWork, task: Task, progress_key: str, failure: str) -> bool:
    """Whether `task`'s result is ready to draw. If not, shows its progress (progress_view) or, if it
    failed, `failure` (a bold headline) with the reason and a Try again button."""
    if not task.done:
        progress_view(task, progress_key)
        return False
    if task.failed:
        st.error(f"{failure} {task.error}")
        st.button("Try again", icon=":material/refresh:", key=f"{progress_key}_retry", on_click=work.forget,
                  args=(task.key,))
        return False
    return True
