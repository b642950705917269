"""Dataset explorer: browse KMNIST, see its classes, statistics and 2-D maps of its images, as pixels
and as a trained model's learned features."""

from functools import partial

import streamlit as st

from kmnist.charts import clicks, dataset
from kmnist.data import explore
from kmnist.data.classes import ALL_LABELS, CLASSES
from kmnist.data.files import ATTRIBUTION, data_key
from kmnist.data.pixels import upscale
from kmnist.pictures import compose as pictures
from kmnist.registry import store
from kmnist.ui import maps
from kmnist.ui.dataset_sections import (
    EXAMPLES,
    GALLERY,
    MAP_MODEL,
    MAPS,
    PAGE_KEY,
    STATISTICS,
    VIEW_KEY,
    VIEW_WIDGETS,
)
from kmnist.ui.figures import frozen, shared_figure, shared_picture
from kmnist.ui.map_hover.component import map_hover
from kmnist.ui.navigation import DATASET, page_header
from kmnist.ui.resources import get_data, model_picker, provenance_note
from kmnist.ui.sections import open_section

COLUMNS, ROWS = 8, 6
PER_PAGE = COLUMNS * ROWS

page_header(DATASET)
st.markdown(
    "**Kuzushiji-MNIST (KMNIST)** holds 28×28 grey scans of *kuzushiji*, the cursive hiragana of "
    "classical Japanese books: ten classes (お き す つ な は ま や れ を) that most modern readers can "
    "no longer read. Each class mixes several historical forms of its character, which is what makes "
    "it harder than handwritten digits: look through them here before training a network on them."
)
data = get_data()
provenance_note(data)


def reset_page() -> None:
    st.session_state[PAGE_KEY] = 1


def step_page(delta: int, count: int) -> None:
    st.session_state[PAGE_KEY] = explore.clamp_page(st.session_state.get(PAGE_KEY, 1) + delta, count)


@st.cache_resource(show_spinner=False, max_entries=4)
def cached_statistics(_images, _labels, key: str) -> explore.SplitStatistics:
    """A split's statistics, computed once per copy of the data (`key`, the split's data_key) and shared:
    a histogram of the official 60,000 training images took 1.5 s on every run."""
    return explore.split_statistics(_images, _labels)


split = st.radio("Split", ["train", "test"], horizontal=True, key="split", on_change=reset_page,
                 format_func=lambda s: f"{s} ({data.provenance.sizes[s]:,} images)",
                 help="The training split teaches a network; the test split is kept apart to measure it.")
images, labels = data.split(split)


@st.fragment
def gallery() -> None:
    every = None if "gallery_classes" in st.session_state else [k.index for k in CLASSES]  # all, or as kept
    chosen = st.multiselect("Classes", [k.index for k in CLASSES], default=every,
                            format_func=lambda c: CLASSES[c].label, key="gallery_classes",
                            on_change=reset_page)
    if not chosen:
        st.info("Pick at least one class to see its images.")
        return
    indices = explore.class_indices(labels, chosen)
    count = explore.page_count(len(indices), PER_PAGE)
    st.session_state[PAGE_KEY] = explore.clamp_page(st.session_state.get(PAGE_KEY, 1), count)
    back, number, forward, _ = st.columns([1, 2, 1, 4], vertical_alignment="bottom")
    back.button("Previous", icon=":material/chevron_left:", on_click=step_page, args=(-1, count),
                disabled=st.session_state.get(PAGE_KEY, 1) <= 1, key="gallery_prev", width="stretch")
    page_number = number.number_input(f"Page (of {count})", min_value=1, max_value=count, step=1,
                                      key=PAGE_KEY)
    forward.button("Next", icon=":material/chevron_right:", icon_position="right", on_click=step_page,
                   args=(1, count), disabled=page_number >= count, key="gallery_next", width="stretch")
    page = explore.paginate(indices, page_number, PER_PAGE)
    names = ", ".join(CLASSES[c].label for c in sorted(chosen))
    drawn = ("gallery", data_key(data, split), tuple(page.indices.tolist()), COLUMNS)
    st.image(shared_picture(drawn, lambda: pictures.gallery_picture(images, labels, page.indices,
                                                                    columns=COLUMNS, scale=4)),
             alt=f"A grid of {len(page.indices)} {split} images of {names}, each tile labelled with its "
                 "position in the split and its class")
    st.caption(f"{split}: {len(page.indices):,} of {page.total:,} images in "
               f"{'class' if len(chosen) == 1 else 'classes'} {names} · page {page.number} of "
               f"{page.count}. Each tile shows the image's position in the split (#0 is its first image) "
               "and its class.")
    with st.expander("Labels of the tiles on this page (position in the split, class)"):
        st.markdown(" · ".join(f"#{p} {CLASSES[labels[p]].name}"
                               for p in page.indices))


@st.fragment
def statistics() -> None:
    st.markdown("A balanced data set has as many images of every class, so accuracy is not skewed "
                "towards frequent classes. KMNIST is balanced by design.")
    numbers = {name: cached_statistics(*data.split(name), data_key(data, name)) for name in ("train", "test")}
    counts = {name: split_numbers.class_counts.tolist() for name, split_numbers in numbers.items()}
    st.plotly_chart(shared_figure(dataset.class_balance_figure, counts), key="class_balance",
                    alt="Grouped bars: the images each of the ten classes has in the train and test splits")

    st.subheader(f"The average image of each class ({split})")
    st.image(shared_picture(("means", data_key(data, split)),
                            lambda: pictures.means_picture(explore.mean_images(images, labels))),
             alt="Ten blurred greyscale tiles, the average image of each class: " + ALL_LABELS,
             caption="Each tile averages every image of its class, brightened to its own peak. A sharp "
                     "mean means the writers agree on the shape; a blurry one means several historical "
                     "forms share the class, which a network must learn separately.")

    st.subheader(f"Pixel intensities ({split})")
    left, right = st.columns(2)
    skip = left.toggle("Leave out the black background (value 0)", key="skip_background",
                       value="skip_background" not in st.session_state)  # on at first, then as kept
    log_y = right.toggle("Logarithmic count axis", value=False, key="log_counts")
    hist_counts, edges = numbers[split].intensity_histogram(bins=32, skip_background=skip)
    st.plotly_chart(shared_figure(dataset.intensity_histogram_figure, hist_counts, edges, log_y=log_y),
                    key="intensity")
    st.caption(f"{numbers[split].ink_fraction:.1%} of the pixels carry ink; the rest is background. "
               "Networks get these values scaled to 0–1.")


SELECTED_KEY = "projection_selected"  # (split, position, map name) of the point last clicked in a map


def remember_selection(chart_key: str, map_name: str) -> None:
    """on_select of a map: keep the clicked image, so the preview follows whichever map was clicked last."""
    position = clicks.selected_index(st.session_state[chart_key].selection.points)
    if position is not None:
        st.session_state[SELECTED_KEY] = (st.session_state["split"], position, map_name)


@st.cache_resource(show_spinner=False, max_entries=16)
def cached_figure(_chosen: explore.Map2D, _labels, key: tuple, method: str, size: int | None, title: str):
    """A map's figure, built once per map (`key`, `method`, `size`): building the traces of thousands of
    points takes tenths of a second. Shared, so never changed (st.plotly_chart only reads it)."""
    positions = _chosen.positions
    return frozen(dataset.projection_figure(_chosen.coordinates, _labels[positions], positions, title,
                                            _chosen.axes))


def draw_map(chosen: explore.Map2D, key: tuple, method: str, size: int | None, title: str,
             chart_key: str, map_name: str) -> None:
    st.plotly_chart(cached_figure(chosen, labels, key, method, size, title), key=chart_key,
                    on_select=partial(remember_selection, chart_key, map_name), selection_mode="points")


def maps_made_ready() -> None:
    """While their tab is closed, the PCA maps (of the model the tab opens on) are computed in the
    background all the same, so they are there when it opens."""
    usable = [e for e in store.list_models() if e.usable]
    kept = st.session_state.get(MAP_MODEL)
    entry = next((e for e in usable if kept and e.name == kept.name), usable[0] if usable else None)
    maps.request_maps(data, split, entry, "PCA", None)


@st.fragment
def projection() -> None:
    st.markdown(
        "Each image is a point in a 784-dimensional space (one axis per pixel). **PCA** keeps the two "
        "directions along which the images vary most: a linear, exact view of the images (all of them up "
        f"to {explore.MAP_POINTS:,}; of a bigger split, a sample with every class equally). **t-SNE** "
        "instead places similar images near each other, which shows clusters better but only works "
        "on a sample and distorts distances between clusters. Hover a point in either map to see its image "
        "at once; click it to keep it beside the maps."
    )
    method_col, size_col, model_col = st.columns(3)
    method = method_col.radio("Method", explore.METHODS, horizontal=True, key="projection_method")
    size = None
    if method == "t-SNE":
        size = size_col.select_slider("t-SNE sample (images, balanced across classes)",
                                      explore.tsne_sizes(len(labels)),
                                      value=None if "tsne_size" in st.session_state  # kept
                                      else min(1000, len(labels)), key="tsne_size")
    with model_col:
        entry = model_picker("Model for the learned-features map", key=MAP_MODEL)
    split_key = data_key(data, split)  # cached results follow the files
    work, wanted = maps.shared_work(data_key(data)), maps.wanted_maps(data, split, entry, method, size)

    if method == "t-SNE":
        prompt = st.empty()
        missing = [task_key for task_key in wanted if work.get(task_key) is None]
        if missing:
            noun = "maps" if len(missing) > 1 else "map"
            with prompt.container():
                st.info(f"t-SNE takes a while (about {explore.tsne_seconds(size)} s a map for {size:,} "
                        "images): each map is computed once, in the background, then kept for everyone.")
                if not st.button(f"Compute the t-SNE {noun} of {size:,} {split} images", type="primary",
                                 key="tsne_compute"):
                    return
            prompt.empty()
    pixels_task, learned_task = maps.request_maps(data, split, entry, method, size)

    pixels_col, learned_col, preview_col = st.columns([5, 5, 2])
    pixels_chart, pixels_name = f"projection_{method}_{split}", "pixel map"
    learned_chart, learned_name = f"features_{method}_{split}", "learned map"
    hovered = {}  # chart key -> map name, for hover thumbnails
    with pixels_col:
        if maps.finished(work, pixels_task, "map_progress_pixels", "**No pixel map.**"):
            pixels = pixels_task.result
            shown = (f"all {len(labels):,}" if len(pixels.positions) == len(labels) else
                     f"{len(pixels.positions):,} of the {len(labels):,}")
            hovered[pixels_chart] = pixels_name
            draw_map(pixels, wanted[0], method, size, f"{method} of the pixels of {shown} {split} images",
                     pixels_chart, pixels_name)
            st.caption(f"{pixels.agreement:.1%} of these images have a nearest neighbour of their own class "
                       "on this map.")
    with learned_col:
        if learned_task is None:
            st.info("A trained model is needed for the map of learned features.")
        elif maps.finished(work, learned_task, "map_progress_learned",
                           f"**No learned-features map for {entry.name}.**"):
            learned = learned_task.result
            hovered[learned_chart] = learned_name
            draw_map(learned.map, wanted[1], method, size, f"{method} of {entry.name}'s learned features",
                     learned_chart, learned_name)
            st.caption(f"The same images as {entry.name}'s layer `{learned.layer}` ({learned.units:,} values "
                       "each) sees them: training pulled each class together so that the softmax can tell "
                       f"them apart, and {learned.map.agreement:.1%} now have a nearest neighbour of their "
                       "own class.")
    with preview_col:
        if hovered:
            map_hover(images, split_key, split, hovered)
        st.subheader("Selected image")
        chosen_split, chosen, map_name = st.session_state.get(SELECTED_KEY, (None, None, None))
        if chosen_split != split or chosen is None or chosen >= len(labels):
            st.info("Click a point in a map to keep its image here.")
        else:
            kana = CLASSES[labels[chosen]]
            st.image(upscale(images[chosen], 8), alt=f"{split} image #{chosen}, a handwritten {kana.label}",
                     caption=f"{split} image #{chosen}, clicked in the {map_name}")
            st.markdown(f"### {kana.name}\nclass {kana.index}, {kana.codepoint}")


@st.fragment
def class_examples() -> None:
    st.markdown("A class is one sound, not one shape: many rows show clearly different historical "
                "forms (*hentaigana* and brush styles) of the same character.")
    seed = st.session_state.setdefault("examples_seed", 0)
    examples = explore.class_examples(labels, per_class=8, seed=seed)
    st.image(shared_picture(("examples", data_key(data, split), seed),
                            lambda: pictures.class_rows_picture(images, examples, scale=3)),
             alt="Ten rows of eight handwritten images, one row per class: " + ALL_LABELS,
             caption="Rows: " + ALL_LABELS)
    st.button("Show other examples", icon=":material/shuffle:", key="examples_shuffle",
              on_click=lambda: st.session_state.update(examples_seed=seed + 1))


# -- One section at a time (tabs): only the open one is computed and drawn -----------------------------------
SECTIONS = {GALLERY: gallery, EXAMPLES: class_examples, STATISTICS: statistics, MAPS: projection}
view, section = open_section(list(SECTIONS), VIEW_KEY, keep=VIEW_WIDGETS)
with section:
    SECTIONS[view]()
if view != MAPS:
    maps_made_ready()
st.divider()
st.caption(f"Data: {ATTRIBUTION}.")
