"""The Sketch pad's first maps when the server classifies: the two rows of maps the in-page pad draws."""

from __future__ import annotations

import numpy as np
import streamlit as st

from kmnist.inspect.probes import layer_outputs
from kmnist.network.layers import pooling_kind
from kmnist.pictures.compose import compose_grid
from kmnist.registry.export import twin_layers
from kmnist.ui.sketch_pad.component import CONV_CAPTION, pooling_caption


def one_scale(maps: np.ndarray) -> np.ndarray:
    """(H, W, C) maps -> C pictures on one scale, black 0 and white the layer's largest value (as the pad)."""
    top = float(maps.max()) or 1.0
    return np.clip(np.moveaxis(maps, -1, 0) / top, 0.0, 1.0)


def first_maps(model, image) -> None:
    """The first convolution's and the first pooling's maps of `image` ((28, 28) in [0, 1]) under `model`."""
    _, conv, pool = twin_layers(model)
    outputs = layer_outputs(model, image)
    convs, pools = outputs[conv], outputs[pool]
    pooled = pooling_caption(pooling_kind(model), (convs.shape[-1], pools.shape[-1]))
    rows = (("First convolution", convs, CONV_CAPTION), ("First pooling", pools, pooled))
    for title, maps, caption in rows:
        height, width, count = maps.shape
        st.markdown(f"**{title}** {count} maps of {height}x{width}")
        st.caption(caption)
        st.image(compose_grid(one_scale(maps), columns=16, scale=2, gap=2),
                 alt=f"{count} small greyscale maps of {height}x{width}, the {title.lower()}'s response to "
                     "your drawing: bright where its pattern appears")
