"""Pictures composed for the pages: labelled grids, the live training strip, sprite sheets."""
