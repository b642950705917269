"""The test images of the loaded copy that a model never trained or validated on, from its card."""

from __future__ import annotations

from dataclasses import replace

from kmnist.data.files import KMNISTData
from kmnist.data.origins import Unseen, unseen
from kmnist.registry.cards import Card


def unseen_test(card: Card | None, data: KMNISTData) -> Unseen:
    """Which of `data`'s test images the model of `card` never saw: by the official positions its card
    records; or all of them when it trained on this very copy (whose test split is its own); else all of
    them, marked as not known."""
    record = card.data if card is not None else None
    found = unseen(len(data.y_test), data.origins.get("test"), record.images if record else None)
    if not found.known and record is not None and record.md5 and record.md5 == data.provenance.md5:
        return replace(found, known=True)
    return found
