"""The maps' hover thumbnails as a Streamlit component: the image under the pointer, drawn in the browser.

Streamlit tells Python nothing about hovers, so the component's page (assets/) listens to the Plotly maps'
hover events in the page around it (same origin) and cuts the hovered image out of sprite sheets that
this module writes once per copy of the data and split (kmnist.pictures.sprites) under assets/sprites/,
where the component's route serves them. Hovering makes no script rerun and no websocket message; each
sprite page is fetched once, when one of its images is first hovered (again only if the browser dropped it).
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st
import streamlit.components.v1 as components

from kmnist.pictures import sprites
from kmnist.registry.errors import ModelError
from kmnist.ui.component_protocol import class_names

ASSETS = Path(__file__).resolve().parent / "assets"
SPRITES = ASSETS / "sprites"  # derived images, written on first use (not in git)
KEY = "map_hover"

_component = components.declare_component("map_hover", path=str(ASSETS))


@st.cache_resource(show_spinner="Preparing hover thumbnails…", max_entries=8)
def _written_sheets(_images, key: str) -> dict:
    """The sheets of the split with sprite key `key`, written into SPRITES if missing: once per key and
    process (concurrent first visits wait for one writer; later runs skip the file checks). A failure
    raises, so nothing is cached and a later run tries again."""
    paths = sprites.write_sheets(_images, SPRITES, key)
    return {"key": key, "url": f"sprites/{sprites.file_name(key, '{page}')}", "count": len(_images),
            "pages": len(paths), **sprites.LAYOUT.as_args()}


def served_sheets(images, data_key: str) -> dict:
    """The sprite sheets of one split, named by its kmnist.data.files.data_key (written into SPRITES if
    missing), as the component's page needs them: their URL pattern (relative to the page), how many
    images and pages, and the tile layout."""
    return dict(_written_sheets(images, sprites.sprite_key(data_key)))  # a copy: the cached one is shared


def map_hover(images, data_key: str, split: str, charts: dict[str, str]) -> None:
    """Show the image under the pointer in the maps drawn by st.plotly_chart with the keys in `charts`
    (chart key -> the map's name, e.g. "pixel map"); their points' customdata is [the image's position, its
    class index] (kmnist.charts.dataset.projection_figure)."""
    try:
        sheets = served_sheets(images, data_key)
    except (ModelError, OSError) as problem:  # e.g. a read-only install: the maps still work without
        st.caption(f"No thumbnails on hover: {problem}")
        return
    _component(sheets=sheets, classes=class_names(), split=split,
               charts=[{"key": key, "name": name} for key, name in charts.items()], key=KEY, default=None)
