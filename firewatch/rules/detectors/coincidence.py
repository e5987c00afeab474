"""Coincidence: `need` signals together within `within` seconds. Two kinds:

- criteria of one multi-criteria detector (device scope): its own alarm, CO, a heat rise...;
  each criterion remembers when it last held; a `rise` criterion keeps a running minimum;
- devices of one venue (venue scope): `need` distinct devices for which `when` held.

A finding fires once and re-arms when fewer than `need` remain inside the window.

>>> from zoneinfo import ZoneInfo
>>> from firewatch.rules.testing import reading, spec_of
>>> rule = spec_of("coincidence", criteria=["alarm == true", "co_ppm >= 50"], need=2,
...                within="60s")
>>> det = Criteria(rule, rule.params, LocalDay(ZoneInfo("Asia/Shanghai")))
>>> out = []
>>> det.feed(reading("SMK-1", 0.0, alarm=True, co_ppm=10.0), 0.0, out)
>>> det.feed(reading("SMK-1", 30.0, alarm=False, co_ppm=60.0), 30.0, out)
>>> [e.summary for e in out]
['SMK-1: 2 of 2 within 60 s: alarm == true, co_ppm >= 50']
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable
from typing import Any

from firewatch.rules.conditions import compile_condition
from firewatch.rules.detectors.base import Detector, LocalDay, samples
from firewatch.rules.evidence import Evidence, ReadingRef
from firewatch.rules.spec import Condition, Params, Rise, RuleSpec

_NEVER = float("-inf")


class Criteria(Detector):
    """Criteria of one detector; per device: last (t, seq, value) of each criterion, and the
    (t, value) running-minimum buffer of each rise criterion."""

    __slots__ = ("_active", "_checks", "_fields", "_last", "_mins", "_rises", "_slot", "_within")

    def __init__(self, spec: RuleSpec, params: Params, day: LocalDay) -> None:
        super().__init__(spec, params, day)
        self._within = params.window_s
        crit = params.criteria
        self._checks = [compile_condition(c) if isinstance(c, Condition) else None for c in crit]
        self._rises = [c if isinstance(c, Rise) else None for c in crit]
        slots = [n for n, c in enumerate(crit) if isinstance(c, Rise)]
        self._slot = {n: slot for slot, n in enumerate(slots)}  # criterion -> its minimum buffer
        self._fields = [c.field if isinstance(c, Rise) else c.terms[-1].field for c in crit]
        self._last: dict[str, array[float]] = {}
        self._mins: dict[str, list[array[float]]] = {}
        self._active: set[str] = set()

    def _rise(self, n: int, rise: Rise, subject: str, value: float, t: float) -> bool:
        mins = self._mins.get(subject)
        if mins is None:
            mins = self._mins[subject] = [samples() for _ in self._slot]
        buf = mins[self._slot[n]]
        while buf and buf[-1] >= value:  # a running minimum: drop what can no longer be it
            del buf[-2:]
        buf.extend((t, value))
        oldest = t - rise.within_s
        while buf[0] < oldest:
            del buf[:2]
        return value - buf[1] >= rise.by

    def feed(self, record: Any, t: float, out: list[Evidence]) -> None:
        if not self.now_ok(t):
            return
        subject = self.key(record)
        last = self._last.get(subject)
        for n, check in enumerate(self._checks):
            if check is not None:
                held = check(record)
            else:
                rise = self._rises[n]
                value = getattr(record, rise.field)  # type: ignore[union-attr]
                held = value is not None and self._rise(n, rise, subject, value, t)  # type: ignore[arg-type]
            if held:
                if last is None:
                    last = self._last[subject] = array("d", [_NEVER, 0.0, 0.0] * len(self._checks))
                value = getattr(record, self._fields[n])
                last[3 * n : 3 * n + 3] = array("d", (t, record.seq, _number(value)))
        if last is None:
            return
        live = [n for n in range(len(self._checks)) if t - last[3 * n] <= self._within]
        if len(live) < self.params.need:
            self._active.discard(subject)
            if not live:
                del self._last[subject]
            return
        if subject in self._active or not self.cooled(subject, t):
            return
        self._active.add(subject)
        crit = self.params.criteria
        out.append(
            self.evidence(
                subject=record.device_id,
                label=subject,
                record=record,
                venue_id=record.venue_id,
                device_ids=(record.device_id,),
                at=record.ts,
                summary=f"{len(live)} of {len(crit)} within {self._within:g} s: "
                + ", ".join(str(crit[n]) for n in live),
                readings=tuple(
                    self.ref_at(
                        record.device_id,
                        last[3 * n],
                        last[3 * n + 1],
                        self._fields[n],
                        _shown(crit[n], last[3 * n + 2]),
                    )
                    for n in live
                ),
            )
        )

    def state(self) -> Iterable[object]:
        return (self._last, self._mins, self._active, *super().state())

    def subjects(self) -> int:
        return len(self._last)


def _number(value: Any) -> float:
    return float(value) if value is not None else 0.0


def _shown(criterion: Condition | Rise, value: float) -> float | bool:
    if isinstance(criterion, Condition) and isinstance(criterion.terms[-1].value, bool):
        return bool(value)
    return value


class Devices(Detector):
    """Devices of one venue; per venue: device -> (t, seq, value) of its last match."""

    __slots__ = ("_active", "_field", "_seen", "_within")

    def __init__(self, spec: RuleSpec, params: Params, day: LocalDay) -> None:
        super().__init__(spec, params, day)
        self._within = params.window_s
        terms = params.when.terms
        self._field = terms[-1].field if terms else "event"
        self._seen: dict[str, dict[str, tuple[float, int, Any]]] = {}
        self._active: set[str] = set()

    def feed(self, record: Any, t: float, out: list[Evidence]) -> None:
        if not self.check(record) or not self.now_ok(t):
            return
        venue = record.venue_id
        seen = self._seen.get(venue)
        if seen is None:
            seen = self._seen[venue] = {}
        seen[record.device_id] = (t, record.seq, getattr(record, self._field))
        oldest = t - self._within
        for device in [d for d, (when, _, _) in seen.items() if when < oldest]:
            del seen[device]
        if len(seen) < self.params.need:
            self._active.discard(venue)
            return
        if venue in self._active or not self.cooled(venue, t):
            return
        self._active.add(venue)
        devices = tuple(sorted(seen))
        readings: tuple[ReadingRef, ...] = tuple(
            self.ref_at(d, seen[d][0], seen[d][1], self._field, seen[d][2]) for d in devices
        )
        out.append(
            self.evidence(
                subject=venue,
                venue_id=venue,
                device_ids=devices,
                at=record.ts,
                summary=f"{len(devices)} devices within {self._within:g} s ({self.params.when}):"
                f" {', '.join(devices)}",
                readings=readings,
            )
        )

    def state(self) -> Iterable[object]:
        return (self._seen, self._active, *super().state())

    def subjects(self) -> int:
        return len(self._seen)
