"""What every detector shares: its rule, its parameters, its state, and how it words evidence.

A detector is one rule at venues of one type (a venue-type override is another detector of the
same rule). It is fed records in order with their device time as epoch seconds (`t`, computed
once per record by the engine), keeps bounded state per subject, and appends what it finds to
`out`. Samples in state are flat `array('d')` triples (t, value, seq): 24 bytes each, no
objects; the reading's time is rebuilt exactly from `t` when a finding names it.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from operator import attrgetter
from typing import Any, ClassVar, Final
from zoneinfo import ZoneInfo

from firewatch.kernel.contract import DeviceKind
from firewatch.rules.conditions import UNITS, compile_condition
from firewatch.rules.evidence import Evidence, ReadingRef
from firewatch.rules.spec import Params, RuleSpec, Source, TimeWindow, Value, show

TABLES: Final = {
    Source.READING: "reading",
    Source.EVENT: "device_event",
    Source.STATUS: "device_status",
    Source.SCAN: "venue_scan",
    Source.OFFLINE: "device_availability",
}


def moment(t: float) -> datetime:
    """The aware UTC time of epoch seconds `t` (exact for microsecond times)."""
    return datetime.fromtimestamp(t, UTC)


def amount(field: str, value: Value | None) -> str:
    """`temp_c 61.2 °C`: a value as a summary shows it."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f"{field} {value:.4g}{UNITS.get(field, '')}"
    return f"{field} {show(value)}"


device_key: Final[Callable[[Any], str]] = attrgetter("device_id")


def port_key(record: Any) -> str:
    """A charging station's ports are separate packs: each port has its own state."""
    port = record.port
    return str(record.device_id) if port is None else f"{record.device_id}#{port}"


def shown(key: str) -> str:
    return key.replace("#", " port ")


class LocalDay:
    """Minutes after local midnight of epoch seconds, in the configured zone; offsets cached
    per hour so that a time-of-day rule costs a dict look-up per reading."""

    __slots__ = ("_offsets", "zone")

    def __init__(self, zone: ZoneInfo) -> None:
        self.zone = zone
        self._offsets: dict[int, float] = {}

    def minute(self, t: float) -> float:
        hour = int(t // 3600)
        offset = self._offsets.get(hour)
        if offset is None:
            if len(self._offsets) > 10_000:
                self._offsets.clear()
            delta = datetime.fromtimestamp(t, self.zone).utcoffset()
            offset = self._offsets[hour] = delta.total_seconds() if delta else 0.0
        return ((t + offset) % 86400.0) / 60.0

    def inside(self, window: TimeWindow, t: float) -> bool:
        m = self.minute(t)
        if window.start_min < window.end_min:
            return window.start_min <= m < window.end_min
        return m >= window.start_min or m < window.end_min


class Detector:
    """The base of every rule type; subclasses implement `feed`."""

    __slots__ = ("_day", "_during", "_last_hit", "check", "key", "params", "spec", "table")
    listens: ClassVar[Source | None] = None

    def __init__(self, spec: RuleSpec, params: Params, day: LocalDay) -> None:
        self.spec = spec
        self.params = params
        self.check = compile_condition(params.when)
        self.table = TABLES[spec.match.source]
        self._day = day
        self._during = params.during
        self._last_hit: dict[str, float] = {}
        kinds = spec.match.kinds
        per_port = spec.match.source is Source.READING and (
            not kinds or DeviceKind.CHARGING in kinds
        )
        self.key: Callable[[Any], str] = port_key if per_port else device_key

    def feed(self, record: Any, t: float, out: list[Evidence]) -> None:
        raise NotImplementedError

    def state(self) -> Iterable[object]:
        """Every container of per-subject state, for measuring its size."""
        return (self._last_hit,)

    def subjects(self) -> int:
        return 0

    # -- helpers for subclasses ------------------------------------------------------------------

    def now_ok(self, t: float) -> bool:
        """Inside the rule's time-of-day window (always, without one)."""
        return self._during is None or self._day.inside(self._during, t)

    def cooled(self, subject: str, t: float) -> bool:
        """False while the subject is inside the cooldown of its previous hit."""
        cooldown = self.params.cooldown_s
        if cooldown <= 0:
            return True
        last = self._last_hit.get(subject)
        if last is not None and t - last < cooldown:
            return False
        self._last_hit[subject] = t
        return True

    def ref(self, record: Any, field: str, value: Value | None) -> ReadingRef:
        device = getattr(record, "device_id", None) or record.venue_id
        return ReadingRef(device, record.ts, record.seq, field, value, self.table)

    def ref_at(
        self, device_id: str, t: float, seq: float, field: str, value: Value | None
    ) -> ReadingRef:
        return ReadingRef(device_id, moment(t), int(seq), field, value, self.table)

    def evidence(
        self,
        *,
        subject: str,
        venue_id: str,
        device_ids: tuple[str, ...],
        at: datetime,
        summary: str,
        readings: tuple[ReadingRef, ...],
        hazard: str | None = None,
        label: str | None = None,
        record: Any = None,
    ) -> Evidence:
        """A finding; with the `record` that completed it, a charging port's number is among
        its readings (alerting switches that port off)."""
        spec = self.spec
        said = f"{shown(label or subject)}: {summary}"
        port = getattr(record, "port", None)
        if port is not None:
            readings = (*readings, self.ref(record, "port", port))
        return Evidence(
            rule_id=spec.id, rule_version=spec.version, category=spec.category,
            level=self.params.level, scope=spec.scope, subject_id=subject, venue_id=venue_id,
            device_ids=device_ids, at=at, summary=said, readings=readings,
            hazard=hazard or spec.hazard,
        )  # fmt: skip


def samples() -> array[float]:
    """An empty flat buffer of (t, value, seq) triples."""
    return array("d")
