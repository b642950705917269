"""The Dataset explorer maps' hover thumbnails: a Streamlit component (component.py), its page (assets/)."""
