"""Home: what KMNIST Studio is, where each page leads, the state of the data and of the trained models."""

import streamlit as st
from streamlit.errors import StreamlitPageNotFoundError

from kmnist import data as kdata
from kmnist import store, ui
from kmnist.ui import get_data

DOWNLOADED_KEY = "home_downloaded"  # session_state: message to show once after a successful download

PAGES = [
    ("pages/dataset.py", "Dataset explorer", "🔎",
     "Browse the ten kuzushiji classes, their historical variants, class balance and a 2-D map "
     "(PCA / t-SNE) of every image."),
    ("pages/training.py", "Training", "📈",
     "Train a CNN live: watch loss, accuracy and AUC per batch and epoch, tune optimizer, dropout "
     "and augmentation, stop at any time and keep the best checkpoint."),
    ("pages/layers.py", "Layer visualizer", "🧩",
     "Follow one image through the network: Conv2D filters and feature maps, pooling, flatten, "
     "dense layers and the softmax that turns scores into probabilities."),
    ("pages/sketch.py", "Sketch pad", "✍️",
     "Write a character with the mouse and see what the model reads, how sure it is and why."),
    ("pages/pooling.py", "Max vs average pooling", "🔲",
     "Compare two networks that differ only in pooling: what each keeps of an image, and how it "
     "changes accuracy."),
]

ui.ensure_navigation()  # a first request straight to this page still gets the app's navigation
st.title("🈂️ KMNIST Studio")
st.markdown(
    "Learn how convolutional neural networks read handwriting by building and poking one yourself. "
    "KMNIST Studio works on **Kuzushiji-MNIST**: 28×28 images of ten cursive hiragana from "
    "classical Japanese books, a harder cousin of the handwritten-digit MNIST. Explore the data, "
    "train a CNN and watch it learn, open it up layer by layer, test it on your own writing and "
    "see what a single design choice such as pooling does."
)

st.header("Where to go")
for path, title, icon, teaches in PAGES:
    link, text = st.columns([1, 3], vertical_alignment="center")
    try:
        link.page_link(path, label=title, icon=icon)
    except StreamlitPageNotFoundError:  # this page was run on its own, without app.py's navigation
        link.markdown(f"{icon} **{title}**")
    text.markdown(teaches)


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
        if st.button("⬇️ Download KMNIST", type="primary", key="download"):
            download(directory)
else:
    provenance = data.provenance
    if provenance.official:
        st.success("**Official KMNIST release**: checksums match the files published by CODH.")
    else:
        st.warning("**Not the official KMNIST release.** This copy's checksums differ from the "
                   "published files, so accuracies measured here are not comparable to published "
                   "KMNIST results (official: 60,000 training / 10,000 test images).")
    train, test, where = st.columns([1, 1, 3])
    train.metric("Training images", f"{provenance.sizes['train']:,}")
    test.metric("Test images", f"{provenance.sizes['test']:,}")
    where.markdown(f"**Location**  \n`{provenance.directory}`")
    with st.expander("Checksums of the files (MD5)"):
        st.dataframe([{"file": name, "this copy": provenance.md5.get(name, "?"), "official": official,
                       "same": provenance.md5.get(name) == official}
                      for name, official in kdata.OFFICIAL_MD5.items()], hide_index=True, width="stretch")

st.header("Trained models")
models = store.list_models()
if not models:
    st.info(f"No trained model in `{store.models_dir()}` yet: train one on the **Training** page.")
else:
    st.dataframe([entry.summary() for entry in models], hide_index=True, width="stretch",
                 column_config={"test accuracy": st.column_config.NumberColumn(format="percent")})
    for entry in models:
        if entry.problem:
            st.warning(f"**{entry.name}**: {entry.problem}")
    st.caption(f"Models folder: `{store.models_dir()}` (set `{store.MODELS_ENV}` to use another).")

st.divider()
st.caption(f"Data set: {kdata.ATTRIBUTION}. Paper: Clanuwat et al., *Deep Learning for Classical "
           "Japanese Literature*, arXiv:1812.01718.")
