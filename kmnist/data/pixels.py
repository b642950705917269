"""Pixel conversions shared by every module: uint8 <-> float in [0, 1], model batches, crisp enlargement."""

from __future__ import annotations

import numpy as np

IMAGE_SIDE = 28


PIXEL_MAX = 255.0  # uint8 pixel values run 0..255; models take them divided by this


def to_float(images) -> np.ndarray:
    """Integer images (0-255) -> float32 in [0, 1]; float images are taken as already in [0, 1]."""
    images = np.asarray(images)
    scale = PIXEL_MAX if np.issubdtype(images.dtype, np.integer) else 1.0
    return images.astype("float32") / scale


def to_uint8(images) -> np.ndarray:
    """uint8 as is; float images in [0, 1] -> 0..255, clipped, fractions dropped (the drawing
    preprocessing was tuned with this conversion, so it stays exactly this)."""
    images = np.asarray(images)
    if images.dtype == np.uint8:
        return images
    return (np.clip(images, 0, 1) * PIXEL_MAX).astype(np.uint8)


def to_model_input(images) -> np.ndarray:
    """(N, 28, 28) images, uint8 or float -> float32 (N, 28, 28, 1) in [0, 1]."""
    return to_float(images)[..., None]


def as_batch(image) -> np.ndarray:
    """One (28, 28) or (28, 28, 1) image, uint8 or float -> float32 (1, 28, 28, 1) in [0, 1]."""
    array = np.asarray(image)
    if array.ndim == 3 and array.shape[-1] == 1:
        array = array[..., 0]
    if array.shape != (IMAGE_SIDE, IMAGE_SIDE):
        raise ValueError(f"expected a {IMAGE_SIDE}x{IMAGE_SIDE} image, got shape {array.shape}")
    return to_model_input(array[None])


def upscale(image, factor: int) -> np.ndarray:
    """Nearest-neighbour enlargement of an (H, W) or (H, W, C) image, so every pixel stays a crisp square
    (browsers blur small images)."""
    image = np.asarray(image)
    return np.repeat(np.repeat(image, factor, axis=0), factor, axis=1)
