"""KMNIST Studio's entry point (`streamlit run app.py`): page set-up and navigation."""

import streamlit as st

from kmnist.ui.navigation import APP_ICON, APP_TITLE, navigation

st.set_page_config(page_title=APP_TITLE, page_icon=APP_ICON, layout="wide")
navigation().run()
