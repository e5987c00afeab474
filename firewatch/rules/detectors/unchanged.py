"""Unchanged: a sensor repeats exactly the same values for `held` seconds. Real sensors are
noisy in their last digit; a frozen front end is not (a trouble, never a fire).

>>> from zoneinfo import ZoneInfo
>>> from firewatch.rules.testing import reading, spec_of
>>> rule = spec_of("unchanged", fields=["smoke_obs", "temp_c"], held="30m", category="trouble",
...                level="blue")
>>> det = Unchanged(rule, rule.params, LocalDay(ZoneInfo("Asia/Shanghai")))
>>> out = []
>>> for n in range(40):
...     det.feed(reading("SMK-1", n * 60.0, smoke_obs=0.12, temp_c=24.1), n * 60.0, out)
>>> [(e.at.minute, e.summary) for e in out]
[(30, 'SMK-1: smoke_obs, temp_c repeated exactly for 1800 s (0.12, 24.1)')]
"""

from __future__ import annotations

from collections.abc import Iterable
from operator import attrgetter
from typing import Any

from firewatch.rules.detectors.base import Detector, LocalDay
from firewatch.rules.evidence import Evidence
from firewatch.rules.spec import Params, RuleSpec, show


class Unchanged(Detector):
    __slots__ = ("_fired", "_get", "_held", "_since")

    def __init__(self, spec: RuleSpec, params: Params, day: LocalDay) -> None:
        super().__init__(spec, params, day)
        fields = params.fields
        getter = attrgetter(*fields)
        self._get = getter if len(fields) > 1 else (lambda r: (getter(r),))
        self._held = params.held_s
        self._since: dict[str, tuple[tuple[Any, ...], float, int]] = {}
        self._fired: set[str] = set()

    def feed(self, record: Any, t: float, out: list[Evidence]) -> None:
        subject = self.key(record)
        values = self._get(record)
        first = self._since.get(subject)
        if None in values or not self.check(record) or not self.now_ok(t):
            if first is not None:
                del self._since[subject]
                self._fired.discard(subject)
            return
        if first is None or first[0] != values or t < first[1]:
            self._since[subject] = (values, t, record.seq)
            self._fired.discard(subject)
            return
        held = t - first[1]
        if held < self._held or subject in self._fired or not self.cooled(subject, t):
            return
        self._fired.add(subject)
        fields = self.params.fields
        out.append(
            self.evidence(
                subject=record.device_id,
                label=subject,
                record=record,
                venue_id=record.venue_id,
                device_ids=(record.device_id,),
                at=record.ts,
                summary=f"{', '.join(fields)} repeated exactly for {held:.0f} s"
                f" ({', '.join(show(v) for v in values)})",
                readings=(
                    self.ref_at(record.device_id, first[1], first[2], fields[0], values[0]),
                    self.ref(record, fields[0], values[0]),
                ),
            )
        )

    def state(self) -> Iterable[object]:
        return (self._since, self._fired, *super().state())

    def subjects(self) -> int:
        return len(self._since)
