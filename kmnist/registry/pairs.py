"""Max/avg pairs: models that differ only in pooling, found by their cards, named NAME-max / NAME-avg."""

from __future__ import annotations

from kmnist.network.architectures import POOLINGS
from kmnist.registry.cards import Card
from kmnist.registry.store import DEFAULT_MODEL, ModelEntry, free_name

# -- the naming rule: the models of pair PREFIX are PREFIX-max and PREFIX-avg --------------------------------
PAIR_SUFFIXES = tuple(f"-{pooling}" for pooling in POOLINGS)  # ("-max", "-avg")


def pair_name(prefix: str, pooling: str) -> str:
    """The name of the `pooling` model of the pair `prefix`: pair_name("duo", "avg") == "duo-avg"."""
    return f"{prefix}-{pooling}"


def pair_prefix(name: str) -> str | None:
    """The prefix of a pair member's name ("duo" for "duo-max"), or None for a name outside the rule."""
    for pooling in POOLINGS:
        if name.endswith(f"-{pooling}") and len(name) > len(pooling) + 1:
            return name.removesuffix(f"-{pooling}")
    return None


def free_prefix(base: str, entries: list[ModelEntry] | None = None) -> str:
    """`base`, or `base-2`, `base-3`...: the first prefix whose pair names are both free (store.free_name)."""
    return free_name(base, suffixes=PAIR_SUFFIXES, entries=entries)


DEFAULT_PAIR = pair_prefix(DEFAULT_MODEL)  # "studio": the shipped pair, studio-max and studio-avg


# -- finding pairs: models whose training differs only in pooling ------------------------------------------
def pair_key(card: Card | None) -> tuple | None:
    """What a max/avg pair must share: the whole training config except pooling (None without a card,
    or a config that records no pooling)."""
    if card is None or card.config is None or "pooling" not in card.config_fields:
        return None
    return tuple(sorted((name, repr(getattr(card.config, name))) for name in card.config_fields
                        if name != "pooling"))


def find_pairs(entries: list[ModelEntry], preferred: str = DEFAULT_PAIR) -> list[tuple]:
    """(max entry, avg entry) pairs of usable models whose configs differ only in pooling.

    The pair named `<preferred>-max` / `<preferred>-avg` (the shipped models) comes first, then the
    others by name.
    """
    groups: dict[tuple, dict[str, list]] = {}
    for entry in entries:
        key = pair_key(entry.card) if entry.usable else None
        if key is not None:
            groups.setdefault(key, {p: [] for p in POOLINGS})[entry.card.config.pooling].append(entry)
    pairs = []
    for members in groups.values():
        for max_entry in members["max"]:
            # Prefer the avg model named by the rule (duo-max with duo-avg), else the first avg.
            prefix = pair_prefix(max_entry.name)
            match = next((e for e in members["avg"] if prefix and e.name == pair_name(prefix, "avg")), None)
            match = match or next(iter(members["avg"]), None)
            if match is not None:
                pairs.append((max_entry, match))
    return sorted(pairs, key=lambda pair: (pair[0].name != pair_name(preferred, "max"), pair[0].name))
