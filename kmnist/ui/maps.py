"""The Dataset explorer's maps on the page: asked of the background (kmnist.ui.map_tasks), one MapWork per
copy of the data shared by every session, their progress shown while they compute, their failures shown
with the reason."""

from __future__ import annotations

import streamlit as st

from kmnist.data.files import data_key
from kmnist.pictures.sprites import sprite_key
from kmnist.ui import map_tasks
from kmnist.ui.map_hover.component import SPRITES
from kmnist.ui.map_tasks import MapWork, Task
from kmnist.ui.resources import model_stamps

POLL_SECONDS = 1.0  # how often a page waiting for a map looks at its progress (each look redraws the page:
#                    at 0.5 s a waiting Dataset explorer kept a browser core 80-90 % busy)


@st.cache_resource(show_spinner=False, max_entries=4)
def shared_work(data_key: str) -> MapWork:
    """The one MapWork of the copy of the data named `data_key` (kmnist.data.files.data_key), shared by
    every session of this server."""
    return MapWork(data_key)


def wanted_maps(data, split: str, entry, method: str, size: int | None) -> list[tuple]:
    """The task keys of the maps of `split` by `method` at `size`: the pixels' map, then `entry`'s
    learned features' (with a model). Keys follow the files: another copy or a changed model, other maps."""
    split_key = data_key(data, split)
    pixels = ("pixels", split_key)
    learned = ("features", split_key, str(entry.path), model_stamps(entry.path)) if entry else None
    return [(*key, method, size) for key in (pixels, learned) if key is not None]


def request_maps(data, split: str, entry, method: str, size: int | None) -> tuple[Task, Task | None]:
    """Ask for the wanted_maps: computed in the background, once per copy of the data for every session
    (kmnist.ui.map_tasks; asking again for one asked before costs nothing); returns their tasks (the learned
    map's None without a model). The pixel map's task also draws the hover thumbnails' sprite sheets."""
    work, wanted = shared_work(data_key(data)), wanted_maps(data, split, entry, method, size)
    images, labels = data.split(split)
    sprites = (SPRITES, sprite_key(data_key(data, split)))
    pixels = work.request(wanted[0], map_tasks.pixel_map(images, labels, method, size, sprites),
                          f"{method} map of the pixels")
    learned = (work.request(wanted[1], map_tasks.learned_map(entry.path, images, labels, method, size),
                            f"{method} map of {entry.name}'s learned features") if entry else None)
    return pixels, learned


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
