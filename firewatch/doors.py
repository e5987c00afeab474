"""The one stage door: every stage takes a stored batch through the same typed interface.

A `Step` is one stored batch on its way through the stages, gathering what each found (the
rules' evidence, the risk scores). A `Door` is how one stage takes it: `take(step, supervisor)`
does the stage's work under supervision and says what became of the stage's watermark. The
engine composes its stages as a list of doors (`firewatch.stages`), in flow order; the
`Evaluator` runs the list, skipping a door whose watermark has passed the batch and, during
the start-up warm-up, every door but those that keep state (`warms`).

The stages' own entry points stay theirs (`RuleEngine.evaluate`, `RiskStage.score`,
`CaseIntake.take_batch`, `AlertStage.take`); a door adapts one of them and nothing else.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

import psycopg

from firewatch.alerting.stage import AlertStage
from firewatch.cases import CaseIntake
from firewatch.cases.intake import ScanApplied
from firewatch.ingest import positions
from firewatch.ingest.records import VenueScan
from firewatch.ingest.stream import Batch
from firewatch.kernel.clock import Clock
from firewatch.models.fusion import RiskScore
from firewatch.models.stage import RiskStage
from firewatch.models.store import ScoreWriter
from firewatch.rules.engine import RuleEngine
from firewatch.rules.evidence import Category, Evidence
from firewatch.rules.store import write_evidence
from firewatch.supervision import Supervisor

EvidenceSink = Callable[[Sequence[Evidence]], object]


class Mark(StrEnum):
    """What a door did with its watermark for the batch."""

    NONE = "none"  # it keeps none (state only: rules, risk)
    STORED = "stored"  # stored with its outputs, in their transaction
    PENDING = "pending"  # nothing to store: the evaluator stores it within a second
    OWN = "own"  # the stage stores it itself, later (alerting's thread)


@dataclass(slots=True)
class Step:
    """One stored batch on its way through the stages."""

    batch: Batch
    partition: str
    since: float  # monotonic: when it was stored (for the lag)
    evidence: list[Evidence] = field(default_factory=list)
    scores: list[RiskScore] = field(default_factory=list)

    @property
    def position(self) -> int | None:
        return self.batch.position


class Door(Protocol):
    name: str
    """The stage, as supervision, health and quarantine name it."""
    mark: str | None
    """The watermark (`stage_watermark.stage`) that skips it; None: it takes every batch."""
    warms: bool
    """It keeps state in memory, rebuilt by the warm-up."""

    def take(self, step: Step, supervisor: Supervisor) -> Mark: ...

    def oldest_pending(self) -> float | None:
        """Monotonic time of the oldest batch it holds unprocessed (None: none)."""
        ...

    def queued(self) -> int:
        """Inputs it holds unprocessed (a stage with a queue of its own)."""
        ...


class _Door:
    name = ""
    mark: str | None = None
    warms = False

    def oldest_pending(self) -> float | None:
        return None

    def queued(self) -> int:
        return 0


class RulesDoor(_Door):
    name, warms = "rules", True

    def __init__(self, engine: RuleEngine) -> None:
        self._engine = engine

    def take(self, step: Step, supervisor: Supervisor) -> Mark:
        # The last try takes the batch record by record: one bad reading costs only itself.
        step.evidence = supervisor.run_split(self.name, step.batch, self._engine.evaluate)
        return Mark.NONE


class RiskDoor(_Door):
    name, warms = "risk", True

    def __init__(self, risk: RiskStage) -> None:
        self._risk = risk

    def take(self, step: Step, supervisor: Supervisor) -> Mark:
        def score() -> list[RiskScore]:
            return [*self._risk.take_evidence(step.evidence), *self._risk.score(step.batch.records)]

        step.scores = supervisor.run(self.name, step.batch, score, list[RiskScore]())
        return Mark.NONE


class FindingsDoor(_Door):
    """The rules stage's outputs (evidence, and the risk scores beside it) stored with the
    `rules` watermark in one transaction; then handed to any extra evidence sinks (the demo)."""

    name = "rules"
    mark: str | None = "rules"

    def __init__(
        self, connect: Callable[[], psycopg.Connection], clock: Clock, sinks: Sequence[EvidenceSink]
    ) -> None:
        self._connect = connect
        self._conn: psycopg.Connection | None = None
        self._clock = clock
        self._sinks = sinks

    def take(self, step: Step, supervisor: Supervisor) -> Mark:
        mark = Mark.PENDING
        if step.evidence or step.scores:
            supervisor.run(self.name, step.batch, lambda: self._store(step), None, hook=False)
            mark = Mark.STORED
        for sink in self._sinks:
            sink(step.evidence)
        return mark

    def _store(self, step: Step) -> None:
        if self._conn is None or self._conn.closed or self._conn.broken:
            self._conn = self._connect()  # (again, after an outage the supervisor waited out)
        conn = self._conn
        with conn.transaction():
            now = self._clock.now()
            if step.evidence:
                write_evidence(conn, step.evidence, now)
            if step.scores:
                ScoreWriter(conn).write(step.scores)
            if step.position is not None:
                positions.advance(conn, "rules", step.partition, step.position, now)
        conn.commit()


class CasesDoor(_Door):
    """Scans and hazard evidence, applied with the `cases` watermark in one transaction."""

    name = "cases"
    mark: str | None = "cases"

    def __init__(self, intake: CaseIntake) -> None:
        self._intake = intake

    def take(self, step: Step, supervisor: Supervisor) -> Mark:
        batch, pos, intake = step.batch, step.position, self._intake
        hazards = [e for e in step.evidence if e.category is Category.HAZARD]
        if pos is None:  # no position (a bench baseline): no watermark either
            supervisor.run(self.name, batch, lambda: _unmarked(intake, batch, hazards), None)
            return Mark.NONE
        if not hazards and not any(isinstance(r, VenueScan) for r in batch.records):
            return Mark.PENDING

        def apply() -> list[ScanApplied]:
            return intake.take_batch(batch, hazards, pos, step.partition)

        supervisor.run(self.name, batch, apply, list[ScanApplied]())
        return Mark.STORED


class AlertingDoor(_Door):
    """One group per batch, decided by alerting's own thread with its watermark."""

    name = "alerting"
    mark: str | None = "alerting"

    def __init__(self, stage: AlertStage) -> None:
        self.stage = stage

    def take(self, step: Step, supervisor: Supervisor) -> Mark:
        pos = step.position
        self.stage.take(step.batch, step.evidence, step.scores, position=pos,
                        partition=step.partition, since=step.since)  # fmt: skip
        return Mark.NONE if pos is None else Mark.OWN  # no position: a bench baseline

    def oldest_pending(self) -> float | None:
        return self.stage.oldest_pending()

    def queued(self) -> int:
        return self.stage.pending()


def _unmarked(intake: CaseIntake, batch: Batch, hazards: Sequence[Evidence]) -> None:
    intake.take_evidence(hazards)
    intake.consume(batch)
