"""The arithmetic of one Conv2D output value, in NumPy, so the Layer visualizer can show every number."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

PADDINGS = ("valid", "same")  # Keras' Conv2D paddings


ACTIVATIONS = {"relu": lambda x: max(x, 0.0), "linear": lambda x: x}  # the ones worked out here


ACTIVATION_WORDS = {"relu": "ReLU (negative → 0)", "linear": "no activation"}  # how the page says each


AGREEMENT = 1e-5  # how closely this float64 arithmetic must match a model's float32 output


def _pair(value) -> tuple[int, int]:
    return (int(value), int(value)) if np.isscalar(value) else (int(value[0]), int(value[1]))


def output_size(size: int, kernel: int, stride: int, padding: str) -> int:
    """How many positions a kernel takes along one axis of `size` pixels (Keras' rule)."""
    if padding not in PADDINGS:
        raise ValueError(f"padding must be {' or '.join(map(repr, PADDINGS))}, not {padding!r}")
    return -(-size // stride) if padding == "same" else (size - kernel) // stride + 1


def pad_before(size: int, kernel: int, stride: int, padding: str) -> int:
    """Zeros added before the first pixel along one axis: none for 'valid'; for 'same' half of what is
    needed, the odd one after (TensorFlow's rule)."""
    if padding == "valid":
        return 0
    needed = max((output_size(size, kernel, stride, padding) - 1) * stride + kernel - size, 0)
    return needed // 2


@dataclass(frozen=True)
class Worked:
    """One output value of a Conv2D layer: its window of the input, the filter, and every step after."""

    row: int               # position in the layer's output map
    col: int
    filter: int            # which filter (output channel)
    top: int               # the window's first input row and column (negative: it starts in the padding)
    left: int
    window: np.ndarray     # (k, k, C) input values under the kernel, 0 where the window is in the padding
    padded: np.ndarray     # (k, k) True where the window lies outside the input ('same' padding's zeros)
    kernel: np.ndarray     # (k, k, C) the filter's weights
    bias: float
    activation: str        # 'relu' or 'linear'

    @property
    def products(self) -> np.ndarray:
        """(k, k, C) input value × weight, element by element."""
        return self.window * self.kernel

    @property
    def channel_sums(self) -> np.ndarray:
        """(C,) each input channel's contribution: the sum of its products."""
        return self.products.sum(axis=(0, 1))

    @property
    def total(self) -> float:
        """The sum of all products."""
        return float(self.channel_sums.sum())

    @property
    def pre_activation(self) -> float:
        return self.total + self.bias

    @property
    def value(self) -> float:
        """The layer's output at (row, col, filter): the activation of sum + bias."""
        return float(ACTIVATIONS[self.activation](self.pre_activation))

    def strongest_channels(self, count: int) -> np.ndarray:
        """The `count` input channels whose contributions are largest in size (|sum of products|), positive
        or negative, largest first."""
        return np.argsort(-np.abs(self.channel_sums), kind="stable")[:count]

    def contribution(self, channel: int) -> str:
        """Input channel `channel`'s contribution in words: its sum and which way it moves the value."""
        amount = float(self.channel_sums[channel])
        way = ("pushes the value up" if amount > 0 else "pushes the value down" if amount < 0
               else "leaves the value as it is")
        return f"{amount:+.6f}: it {way}"


def work_out(inputs, kernel, bias, row: int, col: int, filter: int, strides=1, padding: str = "valid",
             activation: str = "relu") -> Worked:
    """Output (row, col, filter) of a Conv2D with `kernel` (k, k, C, F) and `bias` (F,) on `inputs`
    (H, W, C), computed one multiplication at a time as Keras' Conv2D does (dilation 1)."""
    inputs = np.asarray(inputs, dtype="float64")
    kernel = np.asarray(kernel, dtype="float64")
    if inputs.ndim != 3 or kernel.ndim != 4 or kernel.shape[2] != inputs.shape[2]:
        raise ValueError(f"need inputs (H, W, C) and a kernel (k, k, C, F) with the same C, not "
                         f"{inputs.shape} and {kernel.shape}")
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation {activation!r} is not worked out here (only {', '.join(ACTIVATIONS)})")
    (height, width), (k_rows, k_cols) = inputs.shape[:2], kernel.shape[:2]
    stride_rows, stride_cols = _pair(strides)
    rows = output_size(height, k_rows, stride_rows, padding)
    cols = output_size(width, k_cols, stride_cols, padding)
    if not (0 <= row < rows and 0 <= col < cols and 0 <= filter < kernel.shape[3]):
        raise ValueError(f"({row}, {col}) filter {filter} is outside the "
                         f"{rows}x{cols}x{kernel.shape[3]} output")
    top = row * stride_rows - pad_before(height, k_rows, stride_rows, padding)
    left = col * stride_cols - pad_before(width, k_cols, stride_cols, padding)
    # The input with a border of zeros wide enough for any window, then the window cut out of it.
    padded_input = np.pad(inputs, ((k_rows, k_rows), (k_cols, k_cols), (0, 0)))
    window = padded_input[top + k_rows:top + 2 * k_rows, left + k_cols:left + 2 * k_cols]
    inside_rows = (np.arange(top, top + k_rows) >= 0) & (np.arange(top, top + k_rows) < height)
    inside_cols = (np.arange(left, left + k_cols) >= 0) & (np.arange(left, left + k_cols) < width)
    return Worked(row, col, filter, top, left, window.copy(), ~np.outer(inside_rows, inside_cols),
                  kernel[..., filter].copy(), float(np.asarray(bias)[filter]), activation)


def strongest_inputs(kernel) -> np.ndarray:
    """For a kernel (k, k, C, F): each filter's input channels ordered by weight (sum of |w|), strongest
    first, as (F, C). Deep filters are told apart by these, not by their mean over all inputs."""
    strength = np.abs(np.asarray(kernel, dtype="float64")).sum(axis=(0, 1))  # (C, F)
    return np.argsort(-strength.T, axis=1, kind="stable")
