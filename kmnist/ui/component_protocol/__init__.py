"""What the app's two components (sketch_pad, map_hover) share: the Streamlit component protocol in
JavaScript, served by the app, and the class names their pages show.

Streamlit serves a component's files only under its own route, /component/<name>/. ASSETS is declared as a
component of its own, never shown, so the app serves protocol.js at /component/<ROUTE>/protocol.js, and each
component's page imports it from there ("../<ROUTE>/protocol.js"): one file, no copies, nothing online.
"""

from __future__ import annotations

from pathlib import Path

import streamlit.components.v1 as components

from kmnist.data.classes import CLASSES

ASSETS = Path(__file__).resolve().parent / "assets"
PROTOCOL = ASSETS / "protocol.js"
ROUTE = components.declare_component("assets", path=str(ASSETS)).name  # kmnist.ui.component_protocol.assets
IMPORT = f"../{ROUTE}/{PROTOCOL.name}"  # how a component's page imports the protocol module


def class_names() -> list[str]:
    """Each class as the components' pages name it (KanaClass.name, e.g. 'お (o)'), by class index."""
    return [kana.name for kana in CLASSES]
