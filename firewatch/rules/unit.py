"""Running the tests written in the rule files: each input sequence through a rule engine that
holds only that rule, and its hits compared with the expected ones (Prometheus-style rule unit
tests). `firewatch rules test` and pytest both run them.

>>> from zoneinfo import ZoneInfo
>>> from firewatch.rules.loader import DEFAULT_DIR, load_library
>>> outcomes = run_library_tests(load_library(DEFAULT_DIR), ZoneInfo("Asia/Shanghai"))
>>> len(outcomes) > 40, [str(o) for o in outcomes if not o.passed]
(True, [])
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import groupby
from zoneinfo import ZoneInfo

from firewatch.ingest.liveness import OfflineReason, WentOffline
from firewatch.ingest.records import (
    Availability,
    Decoded,
    DeviceEvent,
    DeviceStatus,
    Reading,
    ScanItem,
    VenueScan,
)
from firewatch.ingest.stream import Batch
from firewatch.kernel.contract import DeviceKind, Level
from firewatch.rules.directory import Directory
from firewatch.rules.engine import RuleEngine
from firewatch.rules.loader import Library
from firewatch.rules.spec import RuleSpec, RuleTest, Source, TestInput
from firewatch.rules.testing import COMMUNITY, GRID, STATION


@dataclass(frozen=True, slots=True)
class Hit:
    at: float  # seconds after the test's start
    subject: str
    level: Level
    hazard: str | None

    def __str__(self) -> str:
        return " ".join(p for p in (f"{self.at:g} s", self.subject, self.level, self.hazard) if p)


@dataclass(frozen=True, slots=True)
class TestOutcome:
    rule_id: str
    test: str
    where: str
    passed: bool
    detail: str

    def __str__(self) -> str:
        if self.passed:
            return f"ok   {self.rule_id}: {self.test} ({self.where})"
        return f"FAIL {self.rule_id}: {self.test} ({self.where}): {self.detail}"


def _record(item: TestInput, when: datetime) -> Decoded | WentOffline:
    kind = item.kind or DeviceKind.SMOKE
    head = (when, when, item.device_id, kind, item.venue_id, COMMUNITY, GRID, STATION, 0)
    fields = dict(item.fields)
    if item.source is Source.READING:
        return Reading(*head, **fields)  # type: ignore[arg-type]
    if item.source is Source.STATUS:
        return DeviceStatus(*head, **fields)  # type: ignore[arg-type]
    if item.source is Source.EVENT:
        return DeviceEvent(*head, item.event, **fields)  # type: ignore[arg-type]
    if item.source is Source.SCAN:
        items = tuple(ScanItem(name, ok) for name, ok in item.items)
        return VenueScan(when, when, item.venue_id, COMMUNITY, GRID, STATION, 0, item.scan_type,
                         "INSP-TEST", items)  # fmt: skip
    if item.offline_reason == "last_will":
        return Availability(when, item.device_id, kind, item.venue_id, COMMUNITY, GRID, STATION,
                            online=False)  # fmt: skip
    reason = OfflineReason(item.offline_reason)
    return WentOffline(item.device_id, kind.value, item.venue_id, when, reason)


def hits_of(spec: RuleSpec, test: RuleTest, zone: ZoneInfo) -> list[Hit]:
    """What the rule finds in the test's input, as hits relative to the test's start."""
    start = datetime.fromisoformat(test.start)
    venues = {i.venue_id for i in test.inputs}
    devices = {i.device_id for i in test.inputs}
    directory = Directory(
        dict.fromkeys(venues, test.venue_type) if test.venue_type else {},
        dict.fromkeys(devices, test.heartbeat_s),
    )
    engine = RuleEngine(Library((spec,)), zone=zone, directory=directory)
    found = []
    ordered = sorted(test.inputs, key=lambda i: i.at)
    for at, group in groupby(ordered, key=lambda i: i.at):
        when = start + timedelta(seconds=at)
        made = [_record(i, when) for i in group]
        batch = Batch(
            tuple(r for r in made if not isinstance(r, WentOffline)),
            tuple(r for r in made if isinstance(r, WentOffline)),
            when,
        )
        found.extend(engine.evaluate(batch))
    return sorted(
        (Hit(round((e.at - start).total_seconds(), 3), e.subject_id, e.level, e.hazard)
         for e in found),
        key=lambda h: (h.at, h.subject),
    )  # fmt: skip


def _agrees(got: list[Hit], test: RuleTest) -> bool:
    want = sorted(test.expect, key=lambda h: (h.at, h.subject, h.hazard or ""))
    got = sorted(got, key=lambda h: (h.at, h.subject, h.hazard or ""))
    if len(want) != len(got):
        return False
    for w, g in zip(want, got, strict=True):
        if (w.at, w.subject) != (g.at, g.subject):
            return False
        if (w.level is not None and w.level != g.level) or (
            w.hazard is not None and w.hazard != g.hazard
        ):
            return False
    return True


def run_rule_tests(spec: RuleSpec, zone: ZoneInfo) -> list[TestOutcome]:
    outcomes = []
    for test in spec.tests:
        got = hits_of(spec, test, zone)
        passed = _agrees(got, test)
        want = ", ".join(
            " ".join(str(p) for p in (f"{h.at:g} s", h.subject, h.level, h.hazard) if p)
            for h in test.expect
        )
        detail = f"expected [{want or 'no hits'}], got [{', '.join(map(str, got)) or 'no hits'}]"
        file = spec.where.file if spec.where else "?"
        outcomes.append(TestOutcome(spec.id, test.name, f"{file}:{test.line}", passed, detail))
    return outcomes


def run_library_tests(library: Library, zone: ZoneInfo) -> list[TestOutcome]:
    return [o for spec in library.rules for o in run_rule_tests(spec, zone)]


def untested(library: Library) -> list[str]:
    return [spec.id for spec in library.rules if not spec.tests]
