"""Deadlines, overdue flags and reminders: pure functions of the case and `now`.

>>> from datetime import UTC, datetime
>>> opened = datetime(2026, 5, 1, 2, tzinfo=UTC)
>>> due_at("evacuation_blocked", opened, CasesSettings()).isoformat()
'2026-05-02T02:00:00+00:00'
>>> due_at("wiring_unsafe", opened, CasesSettings()).isoformat()
'2026-05-08T02:00:00+00:00'
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from firewatch.cases import hazards
from firewatch.cases.records import Kind, Part, PartState, Stage
from firewatch.cases.settings import CasesSettings


class ReminderReason(StrEnum):
    DUE_SOON = "due_soon"  # falls due within `due_soon_hours`
    OVERDUE = "overdue"  # past due: reminded every `reminder_every_hours`
    LONG_OVERDUE = "long_overdue"  # past due by more than `overdue_listing_days`
    INSPECTION_OVERDUE = "inspection_overdue"  # venues not inspected in their cycle (grid staff)


class HolderKind(StrEnum):
    ROLE = "role"
    DEPARTMENT = "department"
    GRID = "grid"
    STATION = "station"


@dataclass(frozen=True, slots=True)
class Holder:
    """Who holds a case now: whoever must make its next move."""

    kind: HolderKind
    ref: str


def due_at(hazard: str, opened_at: datetime, settings: CasesSettings) -> datetime:
    """Immediate hazards within `immediate_hours`; others within their (configured) days."""
    known = hazards.BY_NAME.get(hazard)
    if hazard in settings.deadline_days:
        return opened_at + timedelta(days=settings.deadline_days[hazard])
    if known is not None and known.immediate:
        return opened_at + timedelta(hours=settings.immediate_hours)
    days = known.days if known is not None else settings.default_days
    return opened_at + timedelta(days=days)


def reminder_reason(
    stage: Stage, due: datetime, now: datetime, settings: CasesSettings
) -> ReminderReason | None:
    """Whether the holder of a case is to be reminded now, and why."""
    if stage.terminal:
        return None
    if now > due + timedelta(days=settings.overdue_listing_days):
        return ReminderReason.LONG_OVERDUE
    if now > due:
        return ReminderReason.OVERDUE
    if now >= due - timedelta(hours=settings.due_soon_hours):
        return ReminderReason.DUE_SOON
    return None


def reminder_key(
    case_id: str, reason: ReminderReason, due: datetime, now: datetime, settings: CasesSettings
) -> str:
    """One reminder per case and reason, and for overdue ones one per interval: a sweep run
    twice in the same interval sends nothing new.

    >>> from datetime import UTC, datetime
    >>> due = datetime(2026, 5, 1, tzinfo=UTC)
    >>> reminder_key("HC-1", ReminderReason.OVERDUE, due, datetime(2026, 5, 3, 5, tzinfo=UTC),
    ...              CasesSettings())
    'case:HC-1:overdue:2'
    """
    if reason is ReminderReason.DUE_SOON:
        return f"case:{case_id}:{reason}"
    interval = int((now - due).total_seconds() // (settings.reminder_every_hours * 3600))
    return f"case:{case_id}:{reason}:{interval}"


def holders(
    stage: Stage, kind: Kind, parts: Sequence[Part], grid: str, station_id: str
) -> tuple[Holder, ...]:
    """Whoever must act next: the control room to register and dispatch; the departments with
    unfinished parts (or the station for an incident) while it is handled; the grid's inspector
    to verify."""
    if stage.terminal:
        return ()
    if stage in (Stage.DISPATCHED, Stage.HANDLING):
        open_parts = [
            p.department for p in parts if p.state in (PartState.ASSIGNED, PartState.ACCEPTED)
        ]
        if open_parts:
            return tuple(Holder(HolderKind.DEPARTMENT, d) for d in open_parts)
        if kind is Kind.INCIDENT:
            return (Holder(HolderKind.STATION, station_id),)
    if stage is Stage.VERIFYING:
        return (Holder(HolderKind.GRID, grid),)
    return (Holder(HolderKind.ROLE, "operator"),)
