"""From rule specs to detectors, and from a record's shape to the detectors it must visit.

A rule becomes one detector for its own parameters and one per venue-type override; venues
of a type without an override share the rule's own detector (and its state). A plan is the
tuple of detectors for one (message, kind, event, venue type): the engine looks it up once
per record and caches it, so a reading visits only the rules that listen to it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final

from firewatch.kernel.contract import DeviceKind
from firewatch.rules.detectors.absence import Absence
from firewatch.rules.detectors.base import Detector, LocalDay
from firewatch.rules.detectors.coincidence import Criteria, Devices
from firewatch.rules.detectors.count import Count
from firewatch.rules.detectors.persistence import Persistence
from firewatch.rules.detectors.rate import RateOfRise
from firewatch.rules.detectors.scans import ScanFailed
from firewatch.rules.detectors.threshold import Threshold
from firewatch.rules.detectors.unchanged import Unchanged
from firewatch.rules.evidence import Scope
from firewatch.rules.spec import Params, RuleSpec, RuleType, Source

PlanKey = tuple[Source, str, str, str | None]
"""(message, device kind or "", event name or "", venue type or None)."""

_TYPES: Final[dict[RuleType, type[Detector]]] = {
    RuleType.THRESHOLD: Threshold,
    RuleType.RATE_OF_RISE: RateOfRise,
    RuleType.PERSISTENCE: Persistence,
    RuleType.UNCHANGED: Unchanged,
    RuleType.COUNT: Count,
    RuleType.ABSENCE: Absence,
    RuleType.SCAN_FAILED: ScanFailed,
}


def _detector(spec: RuleSpec, params: Params, day: LocalDay) -> Detector:
    if spec.type is RuleType.COINCIDENCE:
        kind: type[Detector] = Criteria if spec.scope is Scope.DEVICE else Devices
    else:
        kind = _TYPES[spec.type]
    return kind(spec, params, day)


@dataclass(slots=True)
class Compiled:
    """One rule's detectors: its own (None when disabled) and one per override."""

    spec: RuleSpec
    own: Detector | None
    by_type: dict[str, Detector] = field(default_factory=dict)

    def for_venue_type(self, venue_type: str | None) -> Detector | None:
        if self.spec.params_for(venue_type) is None:
            return None
        found = self.by_type.get(venue_type or "")
        return found if found is not None else self.own

    def detectors(self) -> list[Detector]:
        return [d for d in (self.own, *self.by_type.values()) if d is not None]


def compile_rule(spec: RuleSpec, day: LocalDay, heartbeat: Callable[[str], int | None]) -> Compiled:
    own = _detector(spec, spec.params, day) if spec.params.enabled else None
    by_type = {
        venue_type: _detector(spec, params, day)
        for venue_type, params in spec.overrides
        if params.enabled
    }
    compiled = Compiled(spec, own, by_type)
    for detector in compiled.detectors():
        if isinstance(detector, Absence):
            detector.heartbeat = heartbeat
    return compiled


def listens(spec: RuleSpec, source: Source, kind: str, event: str) -> bool:
    match = spec.match
    if match.source is not source:
        return False
    if match.kinds and kind and DeviceKind(kind) not in match.kinds:
        return False
    return source is not Source.EVENT or event in match.events


def plan(rules: list[Compiled], key: PlanKey) -> tuple[Detector, ...]:
    source, kind, event, venue_type = key
    found = []
    for compiled in rules:
        if listens(compiled.spec, source, kind, event):
            detector = compiled.for_venue_type(venue_type)
            if detector is not None:
                found.append(detector)
    return tuple(found)
