"""Rate of rise: a field climbs at least `rate_per_min` over the last `window` (the classic
rate-of-rise heat detector: 8.3 °C a minute). Samples that fail `when` (a port not charging)
empty the window; the rate is judged only once the window holds `min_span` of samples.

>>> from zoneinfo import ZoneInfo
>>> from firewatch.rules.testing import reading, spec_of
>>> rule = spec_of("rate_of_rise", field="temp_c", rate_per_min=8.3, window="60s")
>>> det = RateOfRise(rule, rule.params, LocalDay(ZoneInfo("Asia/Shanghai")))
>>> out = []
>>> for n in range(10):
...     det.feed(reading("SMK-1", n * 5.0, temp_c=20.0 + n * 0.8), n * 5.0, out)
>>> [(e.at.second, e.summary) for e in out]
[(20, 'SMK-1: temp_c rose 9.6/min over 20 s, to 23.2 °C (at least 8.3/min)')]
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from firewatch.rules.conditions import UNITS
from firewatch.rules.detectors.base import Detector, LocalDay, samples
from firewatch.rules.evidence import Evidence
from firewatch.rules.spec import Params, RuleSpec


class RateOfRise(Detector):
    __slots__ = ("_active", "_buffers", "_field", "_limit", "_min_span", "_rate", "_window")

    def __init__(self, spec: RuleSpec, params: Params, day: LocalDay) -> None:
        super().__init__(spec, params, day)
        self._field = params.field
        self._rate = params.rate_per_min
        self._window = params.window_s
        self._min_span = params.min_span_s
        self._limit = 3 * params.max_samples
        self._buffers: dict[str, Any] = {}
        self._active: set[str] = set()

    def feed(self, record: Any, t: float, out: list[Evidence]) -> None:
        subject = self.key(record)
        value = getattr(record, self._field)
        buf = self._buffers.get(subject)
        if value is None or not self.check(record) or not self.now_ok(t):
            if buf is not None:
                del self._buffers[subject]
                self._active.discard(subject)
            return
        if buf is None:
            buf = self._buffers[subject] = samples()
        elif buf and t < buf[-3]:
            del buf[:]  # the device's clock went back (a reboot): start again
        buf.extend((t, value, record.seq))
        oldest = t - self._window
        drop = 0
        while buf[drop] < oldest:
            drop += 3
        if drop or len(buf) > self._limit:
            del buf[: max(drop, len(buf) - self._limit)]
        t0 = buf[0]
        span = t - t0
        if span < self._min_span:
            return
        rate = (value - buf[1]) * 60.0 / span
        if rate < self._rate:
            self._active.discard(subject)
            return
        if subject in self._active or not self.cooled(subject, t):
            return
        self._active.add(subject)
        field = self._field
        out.append(
            self.evidence(
                subject=record.device_id,
                label=subject,
                record=record,
                venue_id=record.venue_id,
                device_ids=(record.device_id,),
                at=record.ts,
                summary=f"{field} rose {rate:.3g}/min over {span:.0f} s, to {value:.4g}"
                f"{UNITS.get(field, '')} (at least {self._rate:g}/min)",
                readings=(
                    self.ref_at(record.device_id, t0, buf[2], field, buf[1]),
                    self.ref(record, field, value),
                ),
            )
        )

    def state(self) -> Iterable[object]:
        return (self._buffers, self._active, *super().state())

    def subjects(self) -> int:
        return len(self._buffers)
