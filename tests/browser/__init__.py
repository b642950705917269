"""Browser tests: Playwright drives Debian's Chromium against `streamlit run app.py`."""
