"""KMNIST Studio's entry point (`streamlit run app.py`): page set-up and navigation."""

import streamlit as st

from kmnist.ui.keras_state import import_keras_when_idle, keep_keras_state, script_run
from kmnist.ui.navigation import APP_TITLE, favicon, navigation

# Streamlit runs this file as "__main__". A process that multiprocessing starts imports the parent's main
# script again, as "__mp_main__" (training children are spared it: kmnist.jobs.supervisor); no app there.
if __name__ == "__main__":
    keep_keras_state()
    import_keras_when_idle()  # in a pause between pages, so that no visitor waits for it
    with script_run():
        st.set_page_config(page_title=APP_TITLE, page_icon=favicon(), layout="wide")
        navigation().run()
