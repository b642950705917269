"""How a training run ended (TrainResult), without TensorFlow: the server and the tests read results that
training processes and cluster workers send, and unpickling one imports only this module."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from kmnist.registry.cards import Card, Status, TestMetrics

# A TrainResult's own status, never a card's (no card is left): stopped before the first epoch ended.
STOPPED_EMPTY = "stopped-empty"


@dataclass
class TrainResult:
    """How a run ended: the saved model's card (and its status), or STOPPED_EMPTY when nothing was saved."""

    status: Status | str  # the saved card's Status, or STOPPED_EMPTY
    message: str
    history: list[dict] = field(default_factory=list)
    model_path: Path | None = None
    card: Card | None = None
    model: object | None = None

    @property
    def test(self) -> TestMetrics | None:
        return self.card.test if self.card else None
