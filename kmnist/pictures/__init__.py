"""Pictures (PNG-ready arrays) composed for the pages: labelled grids, the live training strip, sprite sheets."""
