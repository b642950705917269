"""The arithmetic of 2x2 pooling, worked out in NumPy so the pooling page can show every number."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MODES = ("max", "avg")


def pool2x2(array: np.ndarray, mode: str = "max") -> np.ndarray:
    """2x2 pooling with stride 2 of a (H, W) or (H, W, C) array, like Keras' MaxPooling2D(2) /
    AveragePooling2D(2) with padding "valid": an odd last row or column is dropped."""
    if mode not in MODES:
        raise ValueError(f"pooling mode must be 'max' or 'avg', not {mode!r}")
    array = np.asarray(array, dtype="float64")
    if array.ndim not in (2, 3) or array.shape[0] < 2 or array.shape[1] < 2:
        raise ValueError(f"need a (H, W) or (H, W, C) array with H, W >= 2, not shape {array.shape}")
    height, width = array.shape[0] // 2, array.shape[1] // 2
    blocks = array[:2 * height, :2 * width].reshape(height, 2, width, 2, *array.shape[2:])
    return blocks.max(axis=(1, 3)) if mode == "max" else blocks.mean(axis=(1, 3))


@dataclass(frozen=True)
class Window:
    """One 2x2 pooling window: where it sits and what max and average pooling make of it."""

    row: int  # position in the pooled map
    col: int
    values: np.ndarray  # (2, 2) from the input map

    @property
    def max(self) -> float:
        return float(self.values.max())

    @property
    def mean(self) -> float:
        return float(self.values.mean())

    @property
    def input_rows(self) -> tuple[int, int]:
        return 2 * self.row, 2 * self.row + 1

    @property
    def input_cols(self) -> tuple[int, int]:
        return 2 * self.col, 2 * self.col + 1


def window(array: np.ndarray, row: int, col: int) -> Window:
    """The 2x2 window of a (H, W) map that becomes pixel (row, col) of the pooled map."""
    array = np.asarray(array, dtype="float64")
    rows, cols = array.shape[0] // 2, array.shape[1] // 2
    if array.ndim != 2 or not (0 <= row < rows and 0 <= col < cols):
        raise ValueError(f"window ({row}, {col}) is outside the {rows}x{cols} pooled map of a "
                         f"{array.shape} array")
    return Window(row, col, array[2 * row:2 * row + 2, 2 * col:2 * col + 2].copy())


def telling_window(array: np.ndarray) -> tuple[int, int]:
    """(row, col) of the window where max and average pooling disagree most (ties: the first)."""
    gap = pool2x2(array, "max") - pool2x2(array, "avg")
    row, col = np.unravel_index(int(np.argmax(gap)), gap.shape)
    return int(row), int(col)


def liveliest_channel(maps: np.ndarray) -> int:
    """The channel of (H, W, C) maps with the most varied values (a dead, all-zero map is the least)."""
    maps = np.asarray(maps, dtype="float64")
    return int(np.argmax(maps.reshape(-1, maps.shape[-1]).std(axis=0)))


def pooling_layers(model) -> list:
    """The model's pooling layers (MaxPooling2D / AveragePooling2D), in order."""
    import keras

    kinds = (keras.layers.MaxPooling2D, keras.layers.AveragePooling2D)
    return [layer for layer in model.layers if isinstance(layer, kinds)]


def pooled_input_name(model) -> str:
    """The name of the layer whose output the first pooling layer pools (its feature maps)."""
    pools = pooling_layers(model)
    if not pools:
        raise ValueError(f"model {model.name} has no pooling layer")
    inbound = pools[0].input
    for layer in model.layers:
        if layer.output is inbound:
            return layer.name
    names = [layer.name for layer in model.layers]
    return names[names.index(pools[0].name) - 1]


def pooling_kind(model) -> str | None:
    """'max' or 'avg' from the model's first pooling layer (None without one)."""
    import keras

    pools = pooling_layers(model)
    if not pools:
        return None
    return "max" if isinstance(pools[0], keras.layers.MaxPooling2D) else "avg"


# -- comparing a max model with its avg twin -----------------------------------------------------------
def twin_key(card: dict | None) -> tuple | None:
    """What a max/avg pair must share: the whole training config except pooling (None without a card)."""
    config = (card or {}).get("config")
    if not config or config.get("pooling") not in MODES:
        return None
    return tuple(sorted((k, repr(v)) for k, v in config.items() if k != "pooling"))


def find_pairs(entries, preferred: str = "studio") -> list[tuple]:
    """(max entry, avg entry) pairs of usable models whose configs differ only in pooling.

    `entries` are store.ModelEntry objects; the pair named `<preferred>-max` / `<preferred>-avg`
    (the shipped models) comes first, then the others by name.
    """
    groups: dict[tuple, dict[str, list]] = {}
    for entry in entries:
        key = twin_key(entry.card) if entry.usable else None
        if key is not None:
            groups.setdefault(key, {"max": [], "avg": []})[entry.card["config"]["pooling"]].append(entry)
    pairs = []
    for twins in groups.values():
        for max_entry in twins["max"]:
            stem = max_entry.name.removesuffix("max")
            # Prefer the twin with the matching name (pair-max / pair-avg), else the first avg.
            match = next((e for e in twins["avg"] if e.name == stem + "avg"), None)
            match = match or next(iter(twins["avg"]), None)
            if match is not None:
                pairs.append((max_entry, match))
    return sorted(pairs, key=lambda pair: (pair[0].name != f"{preferred}-max", pair[0].name))


def comparison_rows(cards: dict[str, dict]) -> list[dict]:
    """One row per model card: pooling, test accuracy, macro AUC, test loss, training time, weights."""
    rows = []
    for name, card in cards.items():
        test = card.get("test") or {}
        rows.append({
            "model": name,
            "pooling": {"max": "max", "avg": "average"}.get(card.get("config", {}).get("pooling"), "?"),
            "test accuracy": test.get("accuracy"),
            "macro AUC": test.get("macro_auc"),
            "test loss": test.get("loss"),
            "training time (s)": card.get("training_seconds"),
            "parameters": card.get("parameters"),
            "epochs run": card.get("epochs_run", len(card.get("history") or [])),
            "best epoch": card.get("best_epoch"),
            "status": card.get("status"),
        })
    return rows


def history_records(cards: dict[str, dict]) -> list[dict]:
    """The epoch records of each card's "history", tagged with the model name (for training_curves)."""
    return [{**record, "kind": record.get("kind", "epoch"), "run": name}
            for name, card in cards.items() for record in card.get("history") or []]
