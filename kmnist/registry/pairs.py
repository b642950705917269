"""Max/avg pairs: models that differ only in pooling, found by their cards, named NAME-max / NAME-avg."""

from __future__ import annotations

from kmnist.network.architectures import POOLINGS
from kmnist.registry.store import DEFAULT_MODEL, ModelEntry


# -- max/avg twins: models whose training differs only in pooling ------------------------------------------
def pair_key(card: dict | None) -> tuple | None:
    """What a max/avg pair must share: the whole training config except pooling (None without a card)."""
    config = (card or {}).get("config")
    if not config or config.get("pooling") not in POOLINGS:
        return None
    return tuple(sorted((k, repr(v)) for k, v in config.items() if k != "pooling"))


def find_pairs(entries: list[ModelEntry], preferred: str = DEFAULT_MODEL.removesuffix("-max")) -> list[tuple]:
    """(max entry, avg entry) pairs of usable models whose configs differ only in pooling.

    The pair named `<preferred>-max` / `<preferred>-avg` (the shipped models) comes first, then the
    others by name.
    """
    groups: dict[tuple, dict[str, list]] = {}
    for entry in entries:
        key = pair_key(entry.card) if entry.usable else None
        if key is not None:
            groups.setdefault(key, {p: [] for p in POOLINGS})[entry.card["config"]["pooling"]].append(entry)
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
