"""The stream out of ingest: committed batches, handed to the detection stages.

This is the one interface later stages build on: rules and models implement `Consumer`, and
the pipeline calls each with every committed batch, in commit order, after acknowledging it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from firewatch.ingest.liveness import WentOffline
from firewatch.ingest.records import Decoded


@dataclass(frozen=True, slots=True)
class Batch:
    records: tuple[Decoded, ...]
    """Newly stored records in arrival order; broker redeliveries are not repeated here."""
    offline: tuple[WentOffline, ...]
    """Devices found silent since the previous batch."""
    committed_at: datetime
    position: int | None = None
    """Its position in the store's hand-off (ingest.positions); None when it has none: a
    batch of only duplicates, or one from a source that keeps no positions (tests, the demo)."""


class Consumer(Protocol):
    def consume(self, batch: Batch) -> None:
        """Take one committed batch; must not block for long (it runs on the ingest thread)."""
        ...


class Collector:
    """A consumer that keeps everything it is given, for tests and the demo's summary."""

    def __init__(self) -> None:
        self.batches: list[Batch] = []

    def consume(self, batch: Batch) -> None:
        self.batches.append(batch)

    @property
    def records(self) -> list[Decoded]:
        return [r for b in self.batches for r in b.records]
