"""The app's pages: layout and widgets only (st.navigation in app.py runs them as scripts)."""
