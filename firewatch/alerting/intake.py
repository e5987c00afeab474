"""Intake: rule evidence, fused risk scores and the ingest stream, turned into signals.

Pure functions. Hazard evidence is the cases stage's (a case, not an alert); scores below orange,
and venue or community scores (made of device scores alerting already sees), are not signals.
From the stream: a detector's own `alarm` (a pre-alarm), its hush and clear, a command's
answer (`power_off`, `valve_closed`), device trouble events, and devices gone offline.

>>> from datetime import UTC, datetime
>>> from firewatch.rules.evidence import Category, Evidence, ReadingRef, Scope
>>> t = datetime(2026, 5, 1, 2, 0, tzinfo=UTC)
>>> refs = (ReadingRef("SMK-1", t, 9, "smoke_obs", 14.0), ReadingRef("SMK-1", t, 9, "temp_c", 41.0))
>>> e = Evidence("smoke_heat_rise", 2, Category.FIRE, Level.RED, Scope.DEVICE, "SMK-1", "V-1",
...              ("SMK-1",), t, "smoke 14 %/m, +12 °C in 60 s", refs)
>>> s = from_evidence(e)
>>> s.kind, sorted(s.criteria), s.source
(<AlertKind.FIRE: 'fire'>, ['heat', 'smoke'], <Source.RULE: 'rule'>)
>>> from_evidence(Evidence("lodging", 1, Category.HAZARD, Level.YELLOW, Scope.VENUE, "V-1",
...               "V-1", (), t, "people sleeping in a shop", ()))
<Ignored.HAZARD_IS_A_CASE: 'hazard_is_a_case'>
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Final, Protocol

from firewatch.alerting.records import (
    LEVEL_RANK,
    AlertKind,
    CommandAnswer,
    DeviceMark,
    Mark,
    Signal,
    Source,
)
from firewatch.ingest.liveness import WentOffline
from firewatch.ingest.records import Availability, DeviceEvent
from firewatch.ingest.stream import Batch
from firewatch.kernel import kinds
from firewatch.kernel.contract import DeviceKind, Level
from firewatch.rules.evidence import Category, Evidence, ReadingRef

CRITERIA: Final = kinds.criteria()
"""Reading fields to the criterion they sense (`kernel.kinds`); two corroborate each other."""

_ANSWERS: Final = {kind: k.command.answer for kind, k in kinds.KINDS.items() if k.command}
"""The event answering the kind's command (`power_off`, `valve_closed`)."""

EVENT_CRITERIA: Final = {"alarm": "smoke", "overtemp": "heat", "overcurrent": "current"}

TROUBLE_EVENTS: Final = {
    "fault": Level.BLUE,
    "tamper": Level.BLUE,
    "low_battery": Level.BLUE,
    "overcurrent": Level.BLUE,
    "overtemp": Level.YELLOW,
    "short_circuit": Level.YELLOW,
}
MARKS: Final = {"silenced": Mark.HUSHED, "alarm_cleared": Mark.CLEARED}


class Ignored(StrEnum):
    """Why an input is not a signal."""

    HAZARD_IS_A_CASE = "hazard_is_a_case"  # the cases stage opens a case for it
    BELOW_ORANGE = "risk_below_orange"  # a risk score is only a signal from orange up
    NOT_A_DEVICE_SCORE = "not_a_device_score"  # venue and community scores repeat device ones


class RiskLike(Protocol):
    """A fused risk score as alerting reads it (models.fusion.RiskScore fits)."""

    @property
    def scope(self) -> str: ...
    @property
    def subject_id(self) -> str: ...
    @property
    def venue_id(self) -> str | None: ...
    @property
    def at(self) -> datetime: ...
    @property
    def score(self) -> int: ...
    @property
    def level(self) -> Level: ...


def criteria_of(readings: Iterable[ReadingRef], fallback: str) -> frozenset[str]:
    found = set()
    for r in readings:
        if r.field == "event" and isinstance(r.value, str):
            found.add(EVENT_CRITERIA.get(r.value, r.value))
        elif r.field in CRITERIA:
            found.add(CRITERIA[r.field])
    return frozenset(found or {fallback})


def port_of(readings: Iterable[ReadingRef]) -> int | None:
    for r in readings:
        if r.field == "port" and isinstance(r.value, int | float) and not isinstance(r.value, bool):
            return int(r.value)
    return None


def from_evidence(e: Evidence) -> Signal | Ignored:
    if e.category == Category.HAZARD:
        return Ignored.HAZARD_IS_A_CASE
    kind = AlertKind.FIRE if e.category == Category.FIRE else AlertKind.TROUBLE
    # A finding about a venue as a whole stands for itself, as one "device" of the alert.
    devices = e.device_ids or (e.subject_id,)
    return Signal(
        kind, e.level, e.venue_id, devices, criteria_of(e.readings, e.rule_id), Source.RULE,
        e.rule_id, e.rule_version, e.at, e.summary, e.readings, port_of(e.readings),
    )  # fmt: skip


def from_risk(score: RiskLike) -> Signal | Ignored:
    """A device's fused score from orange up. It is recorded on the venue's open fire alert and
    shown there, and decides nothing (see `group`): it is made of the same readings and rule
    hits alerting sees (a detector's alarm and the rule reading that alarm make red), and of
    hazards too (someone asleep in a shop is orange risk, not a fire)."""
    if score.scope != "device" or score.venue_id is None:
        return Ignored.NOT_A_DEVICE_SCORE
    level = Level(score.level)
    if LEVEL_RANK[level] < LEVEL_RANK[Level.ORANGE]:
        return Ignored.BELOW_ORANGE
    return Signal(
        AlertKind.FIRE, level, score.venue_id, (score.subject_id,), frozenset({"risk"}),
        Source.MODEL, "risk", None, score.at, f"fire risk {score.score}/100 at {score.subject_id}",
    )  # fmt: skip


@dataclass(frozen=True, slots=True)
class StreamInputs:
    """What a committed batch holds for alerting."""

    signals: tuple[Signal, ...] = ()
    marks: tuple[DeviceMark, ...] = ()
    answers: tuple[CommandAnswer, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.signals or self.marks or self.answers)


def _event(
    e: DeviceEvent, alarms: bool, troubles: bool
) -> Signal | DeviceMark | CommandAnswer | None:
    name = e.event
    ref: tuple[ReadingRef, ...] = (ReadingRef(e.device_id, e.ts, e.seq, "event", name),)
    if e.port is not None:
        ref += (ReadingRef(e.device_id, e.ts, e.seq, "port", e.port),)
    if name == "alarm" and alarms and e.kind == DeviceKind.SMOKE:
        return Signal(AlertKind.FIRE, Level.YELLOW, e.venue_id, (e.device_id,),
                      frozenset({"smoke"}), Source.DEVICE, "alarm", None, e.ts,
                      f"detector {e.device_id} in alarm", ref)  # fmt: skip
    if name in MARKS:
        return DeviceMark(e.device_id, e.venue_id, MARKS[name], e.ts)
    if name == _ANSWERS.get(e.kind) and e.command_id is not None:
        return CommandAnswer(e.device_id, e.command_id, e.ts, e.seq)
    if name in TROUBLE_EVENTS and troubles:
        port = "" if e.port is None else f" (port {e.port})"
        return Signal(AlertKind.TROUBLE, TROUBLE_EVENTS[name], e.venue_id, (e.device_id,),
                      frozenset({name}), Source.DEVICE, name, None, e.ts,
                      f"{e.kind} {e.device_id}{port}: {name}", ref, e.port)  # fmt: skip
    return None


def offline_signal(device_id: str, venue_id: str, at: datetime, why: str) -> Signal:
    return Signal(AlertKind.TROUBLE, Level.BLUE, venue_id, (device_id,), frozenset({"offline"}),
                  Source.LIVENESS, why, None, at, f"{device_id} offline ({why})")  # fmt: skip


def from_batch(batch: Batch, *, alarms: bool = True, troubles: bool = True) -> StreamInputs:
    """The alerting inputs of one committed batch (cheap: most records are readings)."""
    signals: list[Signal] = []
    marks: list[DeviceMark] = []
    answers: list[CommandAnswer] = []
    for r in batch.records:
        if isinstance(r, DeviceEvent):
            item = _event(r, alarms, troubles)
            if isinstance(item, Signal):
                signals.append(item)
            elif isinstance(item, DeviceMark):
                marks.append(item)
            elif isinstance(item, CommandAnswer):
                answers.append(item)
        elif isinstance(r, Availability) and not r.online and troubles:
            signals.append(offline_signal(r.device_id, r.venue_id, r.received_at, "last_will"))
    if troubles:
        signals.extend(_offline(batch.offline))
    return StreamInputs(tuple(signals), tuple(marks), tuple(answers))


def _offline(gone: Iterable[WentOffline]) -> Iterator[Signal]:
    for w in gone:
        yield offline_signal(w.device_id, w.venue_id, w.since, str(w.reason))
