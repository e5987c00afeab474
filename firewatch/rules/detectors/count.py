"""Count in window: `count` matching messages for one subject within `within` (three e-bikes
taken into one building's lifts in seven days). Only the last `count` matches are kept, so the
state is bounded however long the window; after a finding the count starts again.

>>> from zoneinfo import ZoneInfo
>>> from firewatch.rules.testing import event, spec_of
>>> rule = spec_of("count", kind="elevator", source="event", event="ebike_detected",
...                scope="building", count=3, within="7d")
>>> det = Count(rule, rule.params, LocalDay(ZoneInfo("Asia/Shanghai")))
>>> out = []
>>> for n, car in enumerate(["ELV-1", "ELV-2", "ELV-1", "ELV-1"]):
...     det.feed(event(car, n * 86400.0, "ebike_detected", kind="elevator"), n * 86400.0, out)
>>> [(e.subject_id, e.at.day, e.device_ids, e.summary) for e in out]
[('V-1', 3, ('ELV-1', 'ELV-2'), 'V-1: 3 within 2 days (at most 7 days): event ebike_detected')]
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from firewatch.rules.conditions import deciding
from firewatch.rules.detectors.base import Detector, LocalDay
from firewatch.rules.evidence import Evidence, Scope
from firewatch.rules.spec import Params, RuleSpec

_KEY = {
    Scope.DEVICE: "device_id",
    Scope.VENUE: "venue_id",
    Scope.BUILDING: "venue_id",
    Scope.COMMUNITY: "community",
}


def _span(seconds: float) -> str:
    for unit, size in (("days", 86400.0), ("h", 3600.0), ("min", 60.0)):
        if seconds >= size:
            return f"{seconds / size:.3g} {unit}"
    return f"{seconds:.0f} s"


class Count(Detector):
    __slots__ = ("_key", "_matches")

    def __init__(self, spec: RuleSpec, params: Params, day: LocalDay) -> None:
        super().__init__(spec, params, day)
        self._key = _KEY[spec.scope]
        self._matches: dict[str, list[tuple[float, int, str, Any]]] = {}

    def feed(self, record: Any, t: float, out: list[Evidence]) -> None:
        if not self.check(record) or not self.now_ok(t):
            return
        subject = getattr(record, self._key)
        field, value = deciding(self.params.when, record)
        matches = self._matches.get(subject)
        if matches is None:
            matches = self._matches[subject] = []
        matches.append((t, record.seq, record.device_id, value))
        if len(matches) > self.params.count:
            del matches[0]
        span = t - matches[0][0]
        if len(matches) < self.params.count or span > self.params.window_s:
            return
        if not self.cooled(subject, t):
            return
        del self._matches[subject]
        devices = tuple(sorted({m[2] for m in matches}))
        said = f"event {record.event}" if field == "event" else str(self.params.when)
        out.append(
            self.evidence(
                subject=subject,
                venue_id=record.venue_id,
                device_ids=devices,
                at=record.ts,
                summary=f"{len(matches)} within {_span(span)} (at most "
                f"{_span(self.params.window_s)}): {said}",
                readings=tuple(self.ref_at(m[2], m[0], m[1], field, m[3]) for m in matches),
            )
        )

    def state(self) -> Iterable[object]:
        return (self._matches, *super().state())

    def subjects(self) -> int:
        return len(self._matches)
