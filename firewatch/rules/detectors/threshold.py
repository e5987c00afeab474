"""Threshold: a condition becomes true. Readings and heartbeats fire on the way up and re-arm
when the condition clears; an event is a moment, so every matching event fires.

>>> from datetime import UTC, datetime, timedelta
>>> from zoneinfo import ZoneInfo
>>> from firewatch.rules.testing import reading, spec_of
>>> rule = spec_of("threshold", when="temp_c >= 57", kind="smoke")
>>> det = Threshold(rule, rule.params, LocalDay(ZoneInfo("Asia/Shanghai")))
>>> out = []
>>> for n, temp in enumerate([40.0, 58.0, 59.0, 30.0, 60.0]):
...     det.feed(reading("SMK-1", n * 5.0, temp_c=temp), n * 5.0, out)
>>> [(e.at.second, e.summary) for e in out]
[(5, 'SMK-1: temp_c 58 °C (temp_c >= 57)'), (20, 'SMK-1: temp_c 60 °C (temp_c >= 57)')]
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from firewatch.rules.conditions import deciding
from firewatch.rules.detectors.base import Detector, LocalDay, amount
from firewatch.rules.evidence import Evidence
from firewatch.rules.spec import Params, RuleSpec, Source


class Threshold(Detector):
    __slots__ = ("_active", "_discrete")

    def __init__(self, spec: RuleSpec, params: Params, day: LocalDay) -> None:
        super().__init__(spec, params, day)
        self._discrete = spec.match.source is Source.EVENT
        self._active: set[str] = set()

    def feed(self, record: Any, t: float, out: list[Evidence]) -> None:
        subject = self.key(record)
        if not self.check(record) or not self.now_ok(t):
            if not self._discrete:
                self._active.discard(subject)
            return
        if not self._discrete:
            if subject in self._active:
                return
            self._active.add(subject)
        if not self.cooled(subject, t):
            return
        when = self.params.when
        field, value = deciding(when, record)
        if self._discrete:
            said = f"event {record.event}" + (f", {amount(field, value)}" if when.terms else "")
        else:
            said = f"{amount(field, value)} ({when})"
        out.append(
            self.evidence(
                subject=record.device_id,
                label=subject,
                record=record,
                venue_id=record.venue_id,
                device_ids=(record.device_id,),
                at=record.ts,
                summary=said,
                readings=(self.ref(record, field, value),),
            )
        )

    def state(self) -> Iterable[object]:
        return (self._active, *super().state())

    def subjects(self) -> int:
        return len(self._active)
