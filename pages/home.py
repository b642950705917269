"""Home: what KMNIST Studio is, where each page leads, the state of the data and of the trained models."""

import streamlit as st
from streamlit.errors import StreamlitPageNotFoundError

from kmnist.data import files as kdata
from kmnist.evaluation.comparison import places_to_tell_apart
from kmnist.registry import store
from kmnist.ui.navigation import HOME, PAGES, page_header
from kmnist.ui.resources import get_data

DOWNLOADED_KEY = "home_downloaded"  # session_state: message to show once after a successful download

page_header(HOME)
st.markdown(
    "Learn how convolutional neural networks read handwriting by building and poking one yourself. "
    "KMNIST Studio works on **Kuzushiji-MNIST**: 28×28 images of ten cursive hiragana from "
    "classical Japanese books, a harder cousin of the handwritten-digit MNIST. Explore the data, "
    "train a CNN and watch it learn, open it up layer by layer, test it on your own writing and "
    "see what a single design choice such as pooling does."
)

st.header("Where to go")
for page in PAGES[1:]:
    link, text = st.columns([1, 3], vertical_alignment="center")
    try:
        link.page_link(page.path, label=page.title, icon=page.icon)
    except StreamlitPageNotFoundError:  # this page was run on its own, without app.py's navigation
        link.markdown(f"{page.icon} **{page.title}**")
    text.markdown(page.teaches)


def download(directory) -> None:
    """Fetch the missing files with a progress bar; the error (named file, cause, fix) on failure."""
    bar = st.progress(0.0, text="Starting the download…")

    def progress(name: str, index: int, total: int) -> None:
        bar.progress(index / total, text=f"Downloading {name} ({index + 1} of {total})…")

    try:
        kdata.fetch(directory, progress=progress)
    except kdata.DataError as error:
        bar.empty()
        st.error(f"**Download failed.** {error}")
        return
    bar.progress(1.0, text="Download complete, checksums verified.")
    st.session_state[DOWNLOADED_KEY] = f"KMNIST downloaded into {directory} and verified."
    st.rerun()


st.header("Data")
if message := st.session_state.pop(DOWNLOADED_KEY, None):
    st.success(message)
directory = kdata.default_data_dir()
data = get_data(stop=False, link_home=False)
if data is None:
    missing = kdata.missing_files(directory)
    if missing:
        st.markdown(f"The official KMNIST files (about 20 MB) can be downloaded from CODH into "
                    f"`{directory}` (set `{kdata.DATA_ENV}` to use another folder). Each file is checked "
                    f"against its official MD5 checksum. Missing: {', '.join(missing)}.")
        if st.button("Download KMNIST", icon=":material/download:", type="primary", key="download"):
            download(directory)
else:
    provenance = data.provenance
    if provenance.official:
        st.success("**Official KMNIST release**: checksums match the files published by CODH.")
    else:
        st.warning(f"**Not the official KMNIST release**: {provenance.description}. Its checksums differ "
                   "from the published files, so accuracies measured here are not comparable to published "
                   f"KMNIST results (official: {kdata.OFFICIAL_SIZES['train']:,} training / "
                   f"{kdata.OFFICIAL_SIZES['test']:,} test images).")
    train, test, where = st.columns([1, 1, 3])
    train.metric("Training images", f"{provenance.sizes['train']:,}")
    test.metric("Test images", f"{provenance.sizes['test']:,}")
    where.markdown(f"**Location**  \n`{provenance.directory}`")
    with st.expander("Checksums of the files (MD5)"):
        st.dataframe(provenance.checksum_rows(), hide_index=True, width="stretch")

st.header("Trained models")
models = store.list_models()
if not models:
    st.info(f"No trained model in `{store.models_dir()}` yet: train one on the **Training** page.")
else:
    summaries = [entry.summary() for entry in models]
    # one decimal, or two where two models would otherwise read alike (97.50 % and 97.55 %)
    places = places_to_tell_apart(summary.get("test accuracy") for summary in summaries)
    rows = [summary | {"test accuracy": round(100 * summary["test accuracy"], places)}
            if summary.get("test accuracy") is not None else summary for summary in summaries]
    st.dataframe(rows, hide_index=True, width="stretch",
                 column_config={"test accuracy": st.column_config.NumberColumn(format=f"%.{places}f%%")})
    for entry in models:
        if entry.problem:
            st.warning(f"**{entry.name}**: {entry.problem}")
    st.caption(f"Models folder: `{store.models_dir()}` (set `{store.MODELS_ENV}` to use another).")

st.divider()
st.caption(f"Data set: {kdata.ATTRIBUTION}. Paper: Clanuwat et al., *Deep Learning for Classical "
           "Japanese Literature*, arXiv:1812.01718.")
