"""Persistence: a condition holds, sample after sample, for `held` seconds (someone lying still
in a shop at night; a detector's baseline stuck high). One false sample starts it over.

>>> from zoneinfo import ZoneInfo
>>> from firewatch.rules.testing import reading, spec_of
>>> rule = spec_of("persistence", kind="occupancy", when="still_minutes >= 20", held="10m")
>>> det = Persistence(rule, rule.params, LocalDay(ZoneInfo("Asia/Shanghai")))
>>> out = []
>>> for n in range(5):
...     sample = reading("OCC-1", n * 300.0, kind="occupancy", still_minutes=20 + 5 * n)
...     det.feed(sample, n * 300.0, out)
>>> [(e.at.minute, e.summary) for e in out]
[(10, 'OCC-1: still_minutes 30 min for 600 s (still_minutes >= 20, held 600 s)')]
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from firewatch.rules.conditions import deciding
from firewatch.rules.detectors.base import Detector, LocalDay, amount
from firewatch.rules.evidence import Evidence
from firewatch.rules.spec import Params, RuleSpec


class Persistence(Detector):
    __slots__ = ("_fired", "_held", "_since")

    def __init__(self, spec: RuleSpec, params: Params, day: LocalDay) -> None:
        super().__init__(spec, params, day)
        self._held = params.held_s
        self._since: dict[str, tuple[float, float, Any]] = {}  # subject -> (t, seq, value)
        self._fired: set[str] = set()

    def feed(self, record: Any, t: float, out: list[Evidence]) -> None:
        subject = self.key(record)
        if not self.check(record) or not self.now_ok(t):
            if self._since.pop(subject, None) is not None:
                self._fired.discard(subject)
            return
        when = self.params.when
        first = self._since.get(subject)
        if first is None or t < first[0]:
            field, value = deciding(when, record)
            self._since[subject] = (t, float(record.seq), value)
            self._fired.discard(subject)
            first = self._since[subject]
        held = t - first[0]
        if held < self._held or subject in self._fired or not self.cooled(subject, t):
            return
        self._fired.add(subject)
        field, value = deciding(when, record)
        out.append(
            self.evidence(
                subject=record.device_id,
                label=subject,
                record=record,
                venue_id=record.venue_id,
                device_ids=(record.device_id,),
                at=record.ts,
                summary=f"{amount(field, value)} for {held:.0f} s ({when}, held {self._held:g} s)",
                readings=(
                    self.ref_at(record.device_id, first[0], first[1], field, first[2]),
                    self.ref(record, field, value),
                ),
            )
        )

    def state(self) -> Iterable[object]:
        return (self._since, self._fired, *super().state())

    def subjects(self) -> int:
        return len(self._since)
