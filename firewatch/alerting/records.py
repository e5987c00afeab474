"""The records of the alerting stage: what comes in (signals), what an alert is, what goes out.

Every input — rule evidence, a fused risk score, a detector's own alarm, a device trouble, a
device gone offline — becomes a `Signal` first, so that the decisions downstream (verify, group,
mute, route, escalate) see one shape. All records are frozen and slotted; times are aware.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Final

from firewatch.kernel.contract import Level
from firewatch.rules.evidence import ReadingRef

LEVEL_RANK: Final = {Level.BLUE: 0, Level.YELLOW: 1, Level.ORANGE: 2, Level.RED: 3}


def higher(a: Level, b: Level) -> Level:
    """The more urgent of two levels.

    >>> higher(Level.YELLOW, Level.RED), higher(Level.ORANGE, Level.BLUE)
    (<Level.RED: 'red'>, <Level.ORANGE: 'orange'>)
    """
    return a if LEVEL_RANK[a] >= LEVEL_RANK[b] else b


class AlertKind(StrEnum):
    FIRE = "fire"  # a possible fire: verified, routed to the station, escalated
    TROUBLE = "trouble"  # the device itself: maintenance for the venue contact and grid staff


class AlertState(StrEnum):
    PENDING = "pending"  # an unconfirmed pre-alarm: the venue's own contacts are told
    CONFIRMED = "confirmed"  # the station is called, escalation runs until acknowledged
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


OPEN_STATES: Final = frozenset({AlertState.PENDING, AlertState.CONFIRMED, AlertState.ACKNOWLEDGED})


class Policy(StrEnum):
    """How a pending fire alert is confirmed (per venue type; red evidence is always immediate)."""

    PERSISTENCE = "persistence"  # a device's alarm holds for the verification period
    CORROBORATION = "corroboration"  # only a second detector or a second criterion confirms
    POSITIVE_ALARM_SEQUENCE = "positive_alarm_sequence"  # contact acks in 15 s, 180 s to dismiss


class Source(StrEnum):
    RULE = "rule"  # rule evidence
    MODEL = "model"  # a fused risk score
    DEVICE = "device"  # the device's own report: its alarm, a trouble event
    LIVENESS = "liveness"  # the device went silent or its Last Will arrived
    OPERATOR = "operator"


class Mark(StrEnum):
    """What a detector says about its own alarm after raising it."""

    HUSHED = "hushed"  # the hush button: the horn stops, the alarm is held off for a while
    CLEARED = "cleared"  # the detector cleared by itself


@dataclass(frozen=True, slots=True)
class Signal:
    """One input to alerting, whatever it came from."""

    kind: AlertKind
    level: Level
    venue_id: str
    device_ids: tuple[str, ...]
    criteria: frozenset[str]  # what was sensed: smoke, heat, co, gas, current, offline, ...
    source: Source
    name: str  # rule id, model name or device event
    version: int | None
    at: datetime  # device time of the finding
    summary: str
    readings: tuple[ReadingRef, ...] = ()
    port: int | None = None  # a charging port the finding is about, for actuation


@dataclass(frozen=True, slots=True)
class DeviceMark:
    """A detector's hush or clear, from its events."""

    device_id: str
    venue_id: str
    mark: Mark
    at: datetime


@dataclass(frozen=True, slots=True)
class CommandAnswer:
    """A device's answer to a command (`power_off`, `valve_closed`), echoing the command's id."""

    device_id: str
    command_id: str
    at: datetime
    seq: int


@dataclass(frozen=True, slots=True)
class DeviceView:
    """One device of an alert, as verification sees it."""

    device_id: str
    level: Level
    muted: str | None
    first_at: datetime
    last_at: datetime
    alarm_since: datetime | None
    alarming: bool
    hushed_at: datetime | None = None
    cleared_at: datetime | None = None

    @property
    def counts(self) -> bool:
        """Its signals count for verification: not all of them were muted."""
        return self.muted is None


@dataclass(frozen=True, slots=True)
class AlertView:
    """An alert as the decisions see it (one row of `alert` with its devices)."""

    alert_id: str
    venue_id: str
    kind: AlertKind
    level: Level
    state: AlertState
    policy: Policy
    opened_at: datetime
    confirmed_at: datetime | None
    acked_at: datetime | None
    contact_acked_at: datetime | None
    last_signal_at: datetime
    criteria: dict[str, datetime] = field(default_factory=dict)
    devices: tuple[DeviceView, ...] = ()
    escalation_step: int = 0
    notify_round: int = 0
    last_notified_at: datetime | None = None
    notified_state: AlertState | None = None
    notified_level: Level | None = None  # the level those called were last told (None: not yet)
    muted: str | None = None
    summary: str = ""
    signals: int = 0
    acked_by: str | None = None
    contact_acked_by: str | None = None
    resolved_at: datetime | None = None
    resolution: str | None = None
    case_id: str | None = None
    next_check_at: datetime | None = None
    version: int = 1

    @property
    def open(self) -> bool:
        return self.state in OPEN_STATES

    def counting(self) -> tuple[DeviceView, ...]:
        return tuple(d for d in self.devices if d.counts)

    def verify_level(self) -> Level:
        """The level verification acts on: that of the unmuted devices only."""
        level = Level.BLUE
        for d in self.counting():
            level = higher(level, d.level)
        return level
