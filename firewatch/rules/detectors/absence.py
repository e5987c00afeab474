"""Absence: a device sends nothing for `heartbeats` of its heartbeat intervals, or the broker
publishes its Last Will. Ingest finds the silence (3 heartbeats, `WentOffline` in each batch);
for more than 3 the finding waits the extra heartbeats and is dropped if the device speaks.

>>> from datetime import UTC, datetime
>>> from zoneinfo import ZoneInfo
>>> from firewatch.ingest.liveness import OfflineReason, WentOffline
>>> from firewatch.rules.testing import spec_of
>>> rule = spec_of("absence", source="offline", heartbeats=5)
>>> det = Absence(rule, rule.params, LocalDay(ZoneInfo("Asia/Shanghai")))
>>> det.heartbeat = lambda device_id: 60
>>> since = datetime(2026, 5, 1, 2, 0, tzinfo=UTC)
>>> out = []
>>> det.offline(WentOffline("SMK-1", "smoke", "V-1", since, OfflineReason.SILENT), out)
>>> det.tick(since.timestamp() + 60, out), len(out)
(None, 0)
>>> det.tick(since.timestamp() + 120, out)
>>> [(e.at.minute, e.summary) for e in out]
[(2, 'SMK-1: silent for 5 heartbeats (60 s each)')]
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from firewatch.ingest.liveness import OfflineReason, WentOffline
from firewatch.rules.detectors.base import Detector, LocalDay, moment
from firewatch.rules.evidence import Evidence, ReadingRef
from firewatch.rules.spec import Params, RuleSpec

_BASE = 3  # ingest reports a device offline after 3 heartbeats (OFFLINE_AFTER_HEARTBEATS)


def _unknown(_device_id: str) -> int | None:
    return None


class Absence(Detector):
    __slots__ = ("_kinds", "_pending", "heartbeat")

    def __init__(self, spec: RuleSpec, params: Params, day: LocalDay) -> None:
        super().__init__(spec, params, day)
        self._kinds = frozenset(k.value for k in spec.match.kinds)
        self._pending: dict[str, tuple[float, WentOffline, int]] = {}
        self.heartbeat: Callable[[str], int | None] = _unknown

    def feed(self, record: Any, t: float, out: list[Evidence]) -> None:
        """An availability message: `offline` is the device's Last Will."""
        if record.online or not self.params.last_will or not self._wanted(record.kind):
            return
        if not self.now_ok(t) or not self.cooled(record.device_id, t):
            return
        ref = ReadingRef(record.device_id, record.received_at, 0, "online", False, self.table)
        out.append(self._found(record.device_id, record.venue_id, record.received_at,
                               "offline: the broker published its Last Will", ref))  # fmt: skip

    def _wanted(self, kind: str) -> bool:
        return not self._kinds or kind in self._kinds

    def _found(self, device: str, venue: str, at: Any, said: str, *refs: ReadingRef) -> Evidence:
        return self.evidence(
            subject=device, venue_id=venue, device_ids=(device,), at=at, summary=said,
            readings=refs,
        )  # fmt: skip

    def offline(self, gone: WentOffline, out: list[Evidence]) -> None:
        if gone.reason is OfflineReason.LAST_WILL or not self._wanted(gone.kind):
            return
        extra = self.params.heartbeats - _BASE
        beat = self.heartbeat(gone.device_id)
        if extra <= 0 or beat is None:
            self._emit(gone, gone.since.timestamp(), beat, out)
            return
        self._pending[gone.device_id] = (gone.since.timestamp() + extra * beat, gone, beat)

    def heard(self, device_ids: set[str]) -> None:
        """Devices that spoke again: their pending silence is over."""
        for device in device_ids & self._pending.keys():
            del self._pending[device]

    def tick(self, now: float, out: list[Evidence]) -> None:
        for device, (deadline, gone, beat) in sorted(self._pending.items()):
            if deadline <= now:
                del self._pending[device]
                self._emit(gone, deadline, beat, out)

    def has_pending(self) -> bool:
        return bool(self._pending)

    def _emit(self, gone: WentOffline, t: float, beat: int | None, out: list[Evidence]) -> None:
        if not self.now_ok(t) or not self.cooled(gone.device_id, t):
            return
        each = f" ({beat} s each)" if beat is not None else ""
        said = (
            f"silent for {max(self.params.heartbeats, _BASE)} heartbeats{each}"
            if gone.reason is OfflineReason.SILENT
            else f"never heard from since it was registered ({self.params.heartbeats} heartbeats)"
        )
        at = gone.since if t == gone.since.timestamp() else moment(t)
        out.append(self._found(gone.device_id, gone.venue_id, at, said))

    def state(self) -> Iterable[object]:
        return (self._pending, *super().state())

    def subjects(self) -> int:
        return len(self._pending)
