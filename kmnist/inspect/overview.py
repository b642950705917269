"""The network at a glance for one input: its path through every conv/pooling layer and the last dense one."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kmnist.inspect.grids import map_column, strongest_maps
from kmnist.network.layers import ShownLayer, dense_layers, spatial_layers

SHOWN = 4  # maps per layer in the overview


@dataclass(frozen=True)
class Overview:
    """What charts.layers.network_overview draws, left to right, and the layers its map columns show."""

    stages: list[tuple[str, np.ndarray, np.ndarray]]  # (title, map column, channel under each pixel)
    dense: tuple[str, np.ndarray] | None              # (title, activations) of the last hidden dense layer
    layers: list[ShownLayer]                          # the conv/pooling layers: stage i + 1 shows layers[i]

    def clicked(self, hit: tuple[int, int] | None) -> tuple[str, int] | None:
        """(layer name, map) of a click on a map of a layer (charts.clicks: (stage, map)); None for no
        click or one on the input."""
        if hit is None or not 0 < hit[0] <= len(self.layers):
            return None
        return self.layers[hit[0] - 1].name, hit[1]


def overview(model, image: np.ndarray, outputs: dict[str, np.ndarray], shown: int = SHOWN) -> Overview:
    """The overview of `image` (28, 28) through `model`, from `outputs` (probes.layer_outputs of the same
    image): each column holds a layer's `shown` strongest maps (highest mean activation) from the top."""
    layers = spatial_layers(model)
    stages = [("input", *map_column(np.asarray(image)[..., None], [0], shown))]
    for layer in layers:
        maps = outputs[layer.output]
        column = map_column(maps, strongest_maps(maps, shown), shown)
        stages.append((f"{layer.name} ({maps.shape[2]})", *column))
    hidden = dense_layers(model)
    dense = None
    if hidden:
        values = outputs[hidden[-1].output]
        dense = (f"{hidden[-1].name} ({values.size})", values)
    return Overview(stages, dense, layers)
