"""How good a model is: metrics, confusion-matrix cells, runs compared by their cards."""
