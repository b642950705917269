"""KMNIST Studio's entry point (`streamlit run app.py`): page set-up and navigation."""

import streamlit as st

st.set_page_config(page_title="KMNIST Studio", page_icon="🈂️", layout="wide")

PAGES = [
    st.Page("pages/home.py", title="Home", icon="🏠", default=True),
    st.Page("pages/dataset.py", title="Dataset explorer", icon="🔎"),
    st.Page("pages/training.py", title="Training", icon="📈"),
    st.Page("pages/layers.py", title="Layer visualizer", icon="🧩"),
    st.Page("pages/sketch.py", title="Sketch pad", icon="✍️"),
    st.Page("pages/pooling.py", title="Max vs average pooling", icon="🔲"),
]
st.navigation(PAGES).run()
