"""Evidence: what a rule (or a model) found, with the readings that made it find it.

Evidence is the currency between detection and alerting: rules emit it, models add scores
beside it, the risk fusion and the alerting stage consume it. It is explainable by
construction: every record names its rule and version and carries the readings behind it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from firewatch.kernel.contract import Level


class Category(StrEnum):
    """What kind of signal: the alerting stage never turns trouble into a fire call."""

    FIRE = "fire"  # smoke, heat, thermal runaway: a possible fire now
    HAZARD = "hazard"  # a condition that makes a fire likely or worse: a case to open
    TROUBLE = "trouble"  # the device itself: offline, battery, tamper, fault


class Scope(StrEnum):
    DEVICE = "device"
    VENUE = "venue"
    BUILDING = "building"
    COMMUNITY = "community"


@dataclass(frozen=True, slots=True)
class ReadingRef:
    """One reading (or event) behind a finding: enough to find it again in the store."""

    device_id: str
    ts: datetime
    seq: int
    field: str  # e.g. "temp_c", or "event" for a device event
    value: float | str | bool | None
    table: str = "reading"
    """Where it is stored: reading, device_event, device_status, device_availability or
    venue_scan (whose `device_id` is then the venue's id and `field` is `items.<item>`)."""


@dataclass(frozen=True, slots=True)
class Evidence:
    rule_id: str
    rule_version: int
    category: Category
    level: Level
    scope: Scope
    subject_id: str  # the device, venue, building or community the rule speaks of
    venue_id: str
    device_ids: tuple[str, ...]
    at: datetime  # device time of the reading that completed the finding
    summary: str  # one readable sentence: what was found, where, how much
    readings: tuple[ReadingRef, ...]
    hazard: str | None = None  # for HAZARD evidence: the hazard type a case is opened for
