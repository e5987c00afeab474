"""Escalate: a confirmed alert nobody acknowledges climbs, and is repeated, until someone does.

Steps are counted from confirmation: 1 the station chief, 2 the subdistrict fire-safety office,
3 (red only) the professional fire brigade. Reminders go to the station at an interval. A device
that does not answer its command in time (a port's power off, a gas valve's closing) moves the
alert one step up at once.
Acknowledgement (or resolution) stops all of it; trouble only gets (rare) reminders.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from firewatch.alerting.records import AlertKind, AlertState, AlertView
from firewatch.alerting.route import Purpose
from firewatch.alerting.settings import EscalationSettings
from firewatch.kernel.contract import Level


class EscalateReason(StrEnum):
    NOT_ACKNOWLEDGED = "not_acknowledged_in_time"
    ACTUATION_UNANSWERED = (
        "actuation_unanswered"  # the device did not confirm its command (port off, valve shut)
    )
    REMINDER_DUE = "reminder_interval"


@dataclass(frozen=True, slots=True)
class Action:
    purpose: Purpose  # ESCALATION or REMINDER
    step: int  # the escalation step reached (for a reminder: the current one)
    reason: EscalateReason


def top_step(level: Level) -> int:
    """The highest step: the brigade only for red."""
    return 3 if level == Level.RED else 2


def _delays(s: EscalationSettings) -> dict[int, float]:
    return {1: s.chief_after_s, 2: s.office_after_s, 3: s.brigade_after_s}


def escalation(a: AlertView, now: datetime,
               s: EscalationSettings) -> tuple[list[Action], datetime | None]:  # fmt: skip
    """The steps and reminders due now, and when the next one will be (once those are sent:
    call again with the alert as it is after them)."""
    if a.state != AlertState.CONFIRMED or a.confirmed_at is None:
        return [], None
    actions: list[Action] = []
    upcoming: list[datetime] = []
    step = a.escalation_step
    if a.kind == AlertKind.FIRE:
        for n, delay in _delays(s).items():
            if n <= a.escalation_step or n > top_step(a.level):
                continue
            at = a.confirmed_at + timedelta(seconds=delay)
            if now >= at:
                actions.append(Action(Purpose.ESCALATION, n, EscalateReason.NOT_ACKNOWLEDGED))
                step = n
            else:
                upcoming.append(at)
                break
    every = s.renotify_s if a.kind == AlertKind.FIRE else s.trouble_renotify_s
    if a.last_notified_at is not None:
        at = a.last_notified_at + timedelta(seconds=every)
        if now >= at and not actions:
            actions.append(Action(Purpose.REMINDER, step, EscalateReason.REMINDER_DUE))
        elif now < at:
            upcoming.append(at)
    return actions, min(upcoming, default=None)


def unanswered(a: AlertView) -> Action | None:
    """One step up when a port's power-off command went unanswered (None: already at the top)."""
    if a.state != AlertState.CONFIRMED:
        return None
    step = a.escalation_step + 1
    if step > top_step(a.level):
        return None
    return Action(Purpose.ESCALATION, step, EscalateReason.ACTUATION_UNANSWERED)
