"""The rule engine: an `ingest.stream.Consumer` that evaluates every committed batch against
the rules in force and hands the evidence found to its sinks.

Records of a batch are taken in (received_at, device time) order — the order a back-test reads
them back from the store — so that a replay of a stored day finds what the live engine found.
A new library (hot reload) is handed over from any thread with `replace` and takes effect at
the start of the next batch, on the ingest thread: rules whose definition did not change keep
their state; changed and new rules start empty.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from firewatch.ingest.records import (
    Availability,
    Decoded,
    DeviceEvent,
    DeviceStatus,
    Reading,
    VenueScan,
)
from firewatch.ingest.stream import Batch
from firewatch.rules import metrics
from firewatch.rules.compile import Compiled, PlanKey, compile_rule, plan
from firewatch.rules.detectors.absence import Absence
from firewatch.rules.detectors.base import Detector, LocalDay
from firewatch.rules.directory import Directory
from firewatch.rules.evidence import Evidence
from firewatch.rules.loader import Library
from firewatch.rules.sizes import deep_size, entry_size
from firewatch.rules.spec import Source

log = logging.getLogger("firewatch.rules")

Sink = Callable[[Sequence[Evidence]], object]
"""Takes the evidence of one batch; `list.extend` will do."""


def arrival(record: Decoded) -> tuple[datetime, datetime]:
    """The order in which the engine (and a back-test) evaluates records."""
    return record.received_at, getattr(record, "ts", record.received_at)


class RuleEngine:
    def __init__(
        self,
        library: Library,
        *,
        zone: ZoneInfo,
        directory: Directory | None = None,
        sinks: Sink | Iterable[Sink] = (),
    ) -> None:
        self._day = LocalDay(zone)
        self.directory = directory if directory is not None else Directory()
        self._sinks: list[Sink] = [sinks] if callable(sinks) else list(sinks)
        self._rules: list[Compiled] = []
        self._plans: dict[PlanKey, tuple[Detector, ...]] = {}
        self._absence: list[Absence] = []
        self._lock = threading.Lock()
        self._next: Library | None = None
        self.library = library
        self.generation = 0
        self._install(library)

    # -- the rules in force ----------------------------------------------------------------------

    def replace(self, library: Library) -> None:
        """Hand over a new library (from any thread); it is used from the next batch on."""
        with self._lock:
            self._next = library

    def _take_next(self) -> None:
        with self._lock:
            library, self._next = self._next, None
        if library is not None:
            self._install(library)

    def _install(self, library: Library) -> None:
        kept = {c.spec.id: c for c in self._rules}
        rules: list[Compiled] = []
        for spec in library.rules:
            old = kept.get(spec.id)
            rules.append(
                old if old is not None and old.spec == spec
                else compile_rule(spec, self._day, self.directory.heartbeat)
            )  # fmt: skip
        changed = sum(1 for c in rules if kept.get(c.spec.id) is not c)
        self._rules, self._plans, self.library = rules, {}, library
        self._absence = [d for c in rules for d in c.detectors() if isinstance(d, Absence)]
        self.generation += 1
        metrics.RULES.set(len(rules))
        log.info("rules in force: %d (%d new or changed)", len(rules), changed)

    # -- evaluation ------------------------------------------------------------------------------

    def consume(self, batch: Batch) -> None:
        evidence = self.evaluate(batch)
        if not evidence:
            return
        for sink in self._sinks:
            try:
                sink(evidence)
            except Exception:
                metrics.SINK_FAILURES.inc()
                log.exception("evidence sink %r failed on %d records", sink, len(evidence))

    def evaluate(self, batch: Batch) -> list[Evidence]:
        """The evidence one batch gives; state moves on, nothing is handed to the sinks."""
        self._take_next()
        out: list[Evidence] = []
        records = batch.records
        if len(records) > 1:
            records = tuple(sorted(records, key=arrival))
        plans, get_plan = self._plans, self._plan
        venue_type = self.directory.venue_types.get
        for r in records:
            cls = r.__class__
            if cls is Reading:
                key: PlanKey = (Source.READING, r.kind, "", venue_type(r.venue_id))  # type: ignore[union-attr]
            elif cls is DeviceEvent:
                key = (Source.EVENT, r.kind, r.event, venue_type(r.venue_id))  # type: ignore[union-attr]
            elif cls is DeviceStatus:
                key = (Source.STATUS, r.kind, "", venue_type(r.venue_id))  # type: ignore[union-attr]
            elif cls is VenueScan:
                key = (Source.SCAN, "", "", venue_type(r.venue_id))
            else:
                key = (Source.OFFLINE, r.kind, "", venue_type(r.venue_id))  # type: ignore[union-attr]
            detectors = plans.get(key)
            if detectors is None:
                detectors = get_plan(key)
            if not detectors:
                continue
            t = (r.received_at if cls is Availability else r.ts).timestamp()  # type: ignore[union-attr]
            for detector in detectors:
                detector.feed(r, t, out)
        if self._absence:
            self._absences(batch, out)
        metrics.EVALUATED.inc(len(records))
        for found in out:
            metrics.EVIDENCE.labels(rule=found.rule_id, category=found.category).inc()
        return out

    def _plan(self, key: PlanKey) -> tuple[Detector, ...]:
        found = self._plans[key] = plan(self._rules, key)
        return found

    def _absences(self, batch: Batch, out: list[Evidence]) -> None:
        venue_type = self.directory.venue_types.get
        for gone in batch.offline:
            key: PlanKey = (Source.OFFLINE, gone.kind, "", venue_type(gone.venue_id))
            detectors = self._plans.get(key)
            for detector in detectors if detectors is not None else self._plan(key):
                if isinstance(detector, Absence):
                    detector.offline(gone, out)
        if any(d.has_pending() for d in self._absence):
            heard = {r.device_id for r in batch.records if not isinstance(r, VenueScan)}
            now = batch.committed_at.timestamp()
            for detector in self._absence:
                detector.heard(heard)
                detector.tick(now, out)

    # -- state -----------------------------------------------------------------------------------

    def detectors(self) -> list[Detector]:
        return [d for c in self._rules for d in c.detectors()]

    def state_bytes(self) -> int:
        """Every byte of evaluation state: the containers of every detector, deeply."""
        seen: set[int] = set()
        return sum(deep_size(c, seen) for d in self.detectors() for c in d.state())

    def state_bytes_of(self, subject: str) -> int:
        """The bytes one device's (or venue's) entries take across every detector."""
        return sum(entry_size(d.state(), subject) for d in self.detectors())

    def describe(self) -> dict[str, Any]:
        return {
            "rules": len(self._rules),
            "generation": self.generation,
            "subjects": sum(d.subjects() for d in self.detectors()),
            "state_bytes": self.state_bytes(),
        }
