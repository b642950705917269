"""KMNIST Studio: the entry point that lists the pages (`streamlit run app.py`)."""

import streamlit as st

st.set_page_config(page_title="KMNIST Studio", page_icon="🈂️", layout="wide")
st.title("KMNIST Studio")
st.write("Learn and experiment with convolutional neural networks on Kuzushiji-MNIST.")
