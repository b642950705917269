"""Streamlit helpers shared by the pages: the only part of the kmnist package that imports Streamlit."""
