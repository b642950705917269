"""Dataset explorer: browse KMNIST, see its classes, statistics and a 2-D map of all images."""

import streamlit as st

from kmnist import charts, explore, pictures
from kmnist.classes import CLASSES
from kmnist.data import ATTRIBUTION
from kmnist.images import upscale
from kmnist.ui.navigation import DATASET, page_header
from kmnist.ui.resources import get_data, provenance_note

COLUMNS, ROWS = 8, 6
PER_PAGE = COLUMNS * ROWS
PAGE_KEY = "gallery_page"

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


def data_key(split: str) -> tuple:
    """Identifies one split of one copy of the data, so cached results follow the files."""
    return data.provenance.fingerprint, split


@st.cache_data(show_spinner=False, max_entries=4)
def cached_pca(_images, key: tuple):
    return explore.pca_projection(_images)


@st.cache_data(show_spinner=False, max_entries=8)
def cached_tsne(_images, _labels, key: tuple, size: int, seed: int):
    positions = explore.stratified_sample(_labels, size, seed=seed)
    return positions, explore.tsne_projection(_images[positions], seed=seed)


split = st.radio("Split", ["train", "test"], horizontal=True, key="split", on_change=reset_page,
                 format_func=lambda s: f"{s} ({data.provenance.sizes[s]:,} images)",
                 help="The training split teaches a network; the test split is kept apart to measure it.")
images, labels = data.split(split)


@st.fragment
def gallery() -> None:
    st.header("Gallery")
    chosen = st.multiselect("Classes", [k.index for k in CLASSES], default=[k.index for k in CLASSES],
                            format_func=lambda c: CLASSES[c].label, key="gallery_classes",
                            on_change=reset_page)
    if not chosen:
        st.info("Pick at least one class to see its images.")
        return
    indices = explore.class_indices(labels, chosen)
    count = explore.page_count(len(indices), PER_PAGE)
    st.session_state[PAGE_KEY] = explore.clamp_page(st.session_state.get(PAGE_KEY, 1), count)
    back, number, forward, _ = st.columns([1, 2, 1, 4], vertical_alignment="bottom")
    back.button("◀ Previous", on_click=step_page, args=(-1, count), disabled=st.session_state.get(
        PAGE_KEY, 1) <= 1, key="gallery_prev", width="stretch")
    page_number = number.number_input(f"Page (of {count})", min_value=1, max_value=count, step=1,
                                      key=PAGE_KEY)
    forward.button("Next ▶", on_click=step_page, args=(1, count), disabled=page_number >= count,
                   key="gallery_next", width="stretch")
    page = explore.paginate(indices, page_number, PER_PAGE)
    names = ", ".join(CLASSES[c].label for c in sorted(chosen))
    st.image(pictures.gallery_picture(images, labels, page.indices, columns=COLUMNS, scale=4))
    st.caption(f"{split}: images {page.first:,}–{page.last:,} of {page.total:,} in "
               f"{'class' if len(chosen) == 1 else 'classes'} {names} · page {page.number} of "
               f"{page.count}. Each tile shows the image's position in the split and its class.")
    with st.expander("Labels of the tiles on this page (position in the split, class)"):
        st.markdown(" · ".join(f"#{p} {CLASSES[labels[p]].char} ({CLASSES[labels[p]].romaji})"
                               for p in page.indices))


@st.fragment
def statistics() -> None:
    st.header("Class balance and pixels")
    st.markdown("A balanced data set has as many images of every class, so accuracy is not skewed "
                "towards frequent classes. KMNIST is balanced by design.")
    counts = {name: explore.class_counts(data.split(name)[1]).tolist() for name in ("train", "test")}
    st.plotly_chart(charts.class_balance_figure(counts), key="class_balance")

    st.subheader(f"The average image of each class ({split})")
    st.image(pictures.means_picture(explore.mean_images(images, labels)),
             caption="Each tile averages every image of its class, brightened to its own peak. A sharp "
                     "mean means the writers agree on the shape; a blurry one means several historical "
                     "forms share the class, which a network must learn separately.")

    st.subheader(f"Pixel intensities ({split})")
    left, right = st.columns(2)
    skip = left.toggle("Leave out the black background (value 0)", value=True, key="skip_background")
    log_y = right.toggle("Logarithmic count axis", value=False, key="log_counts")
    hist_counts, edges = explore.intensity_histogram(images, bins=32, skip_background=skip)
    st.plotly_chart(charts.intensity_histogram_figure(hist_counts, edges, log_y=log_y), key="intensity")
    st.caption(f"{explore.ink_fraction(images):.1%} of the pixels carry ink; the rest is background. "
               "Networks get these values scaled to 0–1.")


@st.fragment
def projection() -> None:
    st.header("Map of the images in 2-D")
    st.markdown(
        "Each image is a point in a 784-dimensional space (one axis per pixel). **PCA** keeps the two "
        "directions along which the images vary most: a linear, exact view of all images. **t-SNE** "
        "instead places similar images near each other, which shows clusters better but only works "
        "on a sample and distorts distances between clusters. Click a point to see its image."
    )
    method_col, size_col = st.columns([2, 2])
    method = method_col.radio("Method", ["PCA", "t-SNE"], horizontal=True, key="projection_method")
    if method == "PCA":
        with st.spinner(f"Computing PCA of {len(labels):,} images…"):
            coordinates, ratio = cached_pca(images, data_key(split))
        positions = range(len(labels))
        title = f"PCA of all {len(labels):,} {split} images"
        axes = (f"PC 1 ({ratio[0]:.1%} of variance)", f"PC 2 ({ratio[1]:.1%} of variance)")
    else:
        size = size_col.select_slider("t-SNE sample (images, balanced across classes)",
                                      explore.tsne_sizes(len(labels)),
                                      value=min(1000, len(labels)), key="tsne_size")
        computed = st.session_state.setdefault("tsne_computed", set())
        prompt = st.empty()
        if (split, size) not in computed:
            with prompt.container():
                st.info(f"t-SNE takes a while (about {max(3, size // 200)} s for {size:,} images): "
                        "it is computed once, then kept.")
                if not st.button(f"Compute the t-SNE map of {size:,} {split} images", type="primary",
                                 key="tsne_compute"):
                    return
        with st.spinner(f"Computing t-SNE of {size:,} images…"):
            positions, coordinates = cached_tsne(images, labels, data_key(split), size, 0)
        computed.add((split, size))
        prompt.empty()
        title = f"t-SNE of {len(positions):,} {split} images"
        axes = ("t-SNE 1", "t-SNE 2")
    chart_col, preview_col = st.columns([3, 1])
    with chart_col:
        event = st.plotly_chart(
            charts.projection_figure(coordinates, labels[positions], positions, title, axes),
            key=f"projection_{method}_{split}", on_select="rerun", selection_mode="points")
    with preview_col:
        st.subheader("Selected image")
        chosen = explore.selected_index(event.selection.points if event else [])
        if chosen is None or chosen >= len(labels):
            st.info("Click a point in the map to see its image here (hover shows its number and class).")
        else:
            kana = CLASSES[labels[chosen]]
            st.image(upscale(images[chosen], 8), caption=f"{split} image #{chosen}")
            st.markdown(f"### {kana.char} ({kana.romaji})\nclass {kana.index}, {kana.codepoint}")


@st.fragment
def class_examples() -> None:
    st.header("The ten classes, eight writers each")
    st.markdown("A class is one sound, not one shape: many rows show clearly different historical "
                "forms (*hentaigana* and brush styles) of the same character.")
    seed = st.session_state.setdefault("examples_seed", 0)
    examples = explore.class_examples(labels, per_class=8, seed=seed)
    st.image(pictures.class_rows_picture(images, examples, scale=3),
             caption="Rows: " + ", ".join(f"{k.index} {k.char} ({k.romaji})" for k in CLASSES))
    st.button("🔀 Show other examples", key="examples_shuffle",
              on_click=lambda: st.session_state.update(examples_seed=seed + 1))


gallery()
class_examples()
statistics()
projection()
st.divider()
st.caption(f"Data: {ATTRIBUTION}.")
