"""The app's pages (file, title, icon, what each teaches), the navigation they run in, and their headers."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import streamlit as st

from kmnist.pictures.compose import app_icon
from kmnist.ui import keys

APP_TITLE, APP_ICON = "KMNIST Studio", ":material/history_edu:"  # Material icons draw everywhere;
# emoji show as empty boxes on machines without an emoji font. The favicon is a picture of our own
# (pictures.compose.app_icon): a Material icon as favicon is fetched from a font CDN.


@dataclass(frozen=True)
class PageInfo:
    path: str     # the page's script, relative to app.py
    title: str    # its name in the navigation
    icon: str
    teaches: str  # one sentence on Home's "Where to go"
    heading: str = ""  # the page's title, when it is not "<icon> <title>"

    @property
    def header(self) -> str:
        return self.heading or f"{self.icon} {self.title}"


HOME = PageInfo("pages/home.py", "Home", ":material/home:", "", heading=f"{APP_ICON} {APP_TITLE}")
DATASET = PageInfo(
    "pages/dataset.py", "Dataset explorer", ":material/image_search:",
    "Browse the ten kuzushiji classes, their historical variants, class balance and a 2-D map "
    "(PCA / t-SNE) of every image.")
TRAINING = PageInfo(
    "pages/training.py", "Training", ":material/model_training:",
    "Train a CNN live: watch loss, accuracy and AUC per batch and epoch, tune optimizer, dropout "
    "and augmentation, stop at any time and keep the best checkpoint.")
COMPARE = PageInfo(
    "pages/compare.py", "Compare runs", ":material/compare_arrows:",
    "Put saved models side by side: the settings that differ, their curves, test results and accuracy "
    "per class, and a confusion matrix whose cells open their test images.")
LAYERS = PageInfo(
    "pages/layers.py", "Layer visualizer", ":material/layers:",
    "Follow one image through the network: Conv2D filters and feature maps, pooling, flatten, "
    "dense layers and the softmax that turns scores into probabilities.")
SKETCH = PageInfo(
    "pages/sketch.py", "Sketch pad", ":material/draw:",
    "Write a character with the mouse and see what the model reads, how sure it is and why.")
POOLING = PageInfo(
    "pages/pooling.py", "Max vs average pooling", ":material/grid_view:",
    "Compare two networks that differ only in pooling: what each keeps of an image, and how it "
    "changes accuracy.")
PAGES = (HOME, DATASET, TRAINING, COMPARE, LAYERS, SKETCH, POOLING)


@functools.cache
def favicon():
    """The browser tab's icon: a picture the app serves itself (st.set_page_config's page_icon), drawn
    once per server, not on every rerun of app.py."""
    return app_icon()


def navigation():
    """app.py's st.navigation over PAGES (Home first and default); call .run() on the result."""
    return st.navigation([st.Page(page.path, title=page.title, icon=page.icon, default=page is HOME)
                          for page in PAGES])


def open_in_layers(image, model: str, caption: str | None = None, truth: int | None = None,
                   position: int | None = None) -> None:
    """Open the Layer visualizer on `image` ((28, 28) float) and model `model` (its name: the model whose
    answer was on screen), which it then shows first: a Sketch pad drawing, or, given its `caption`, true
    class `truth` and `position` in the test set, a test image (e.g. from a confusion-matrix cell).
    A script-run call, not a widget callback (st.switch_page)."""
    st.session_state[keys.LAYERS_MODEL_WANTED] = model
    if caption is None:
        st.session_state[keys.LAST_DRAWING] = image
    else:  # "drawing": the drawing sent before it, so that a later drawing opens first
        st.session_state[keys.INSPECT_IMAGE] = {"image": image, "truth": truth, "caption": caption,
                                                "position": position,
                                                "drawing": st.session_state.get(keys.LAST_DRAWING)}
    st.session_state.pop(keys.LAYERS_SOURCE, None)  # the visualizer's input choice: it opens on the newest
    st.switch_page(LAYERS.path)


def page_header(page: PageInfo) -> None:
    """The page's title, after making sure the page runs inside the app's navigation."""
    ensure_navigation()
    st.title(page.header, anchor=False)  # no "link to heading": one Tab stop fewer before the page's controls


def ensure_navigation() -> None:
    """Run this page through app.py's navigation, even on a fresh server's first deep-link request.

    Because a pages/ folder exists, Streamlit runs the first request after a server start to a URL
    such as /sketch in its legacy multipage mode: the page alone, without app.py's page config and
    navigation. Streamlit's docs say the pages/ folder is ignored "as soon as any session executes
    st.navigation", but nothing runs app.py before that first request, and no setting or public call
    changes the mode for the run in progress. So this clears Streamlit's flag for the legacy mode
    (PagesManager.uses_pages_directory, what st.navigation itself sets) and reruns, which shows the same
    page through app.py. Once per session at most: a rerun drops the widget event of its run.
    tests/test_navigation.py fails if a Streamlit upgrade moves the flag.
    """
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory and not st.session_state.get(keys.NAVIGATION_CHECKED):
        st.session_state[keys.NAVIGATION_CHECKED] = True
        PagesManager.uses_pages_directory = False
        st.rerun()
