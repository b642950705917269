"""The in-page Sketch pad: its Streamlit component (component.py), its page (assets/) and vendored files."""
