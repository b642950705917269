"""Plotly figures for the pages (pure functions: arrays and records in, go.Figure out)."""
