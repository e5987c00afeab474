"""Verify: when a pending fire alert becomes a confirmed one, or resolves unconfirmed.

One pure function of the alert's facts and `now`, called after every signal, mark and tick, so
a decision never depends on what order things were looked at in. What confirms (the venue
type's policy decides which apply; red and corroboration apply everywhere):

- red evidence: at once (smoke with a heat rate of rise, thermal runaway);
- corroboration: a second detector live at the same time, or a second independent criterion
  (smoke, heat, CO, gas) within 60 s;
- persistence: a device's alarm holds for the verification period (<= 60 s) without hush or clear;
- positive alarm sequence: no contact answers within 15 s, or one did and did not dismiss it
  within the 180 s investigation window;
- under corroboration only, a lone alarm that holds for `long_alarm_s` (a fire with one
  detector must not wait for ever).

A pending alert whose detectors all cleared by themselves resolves (a false alarm, counted);
one with nothing live for `pending_expiry_s` expires. Trouble needs no verification.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final

from firewatch.alerting.records import AlertKind, AlertState, AlertView, DeviceView, Policy
from firewatch.alerting.settings import VerifySettings
from firewatch.kernel.contract import Level

NOT_INDEPENDENT: Final = frozenset({"risk"})
"""A fused risk score is made of the same readings: never a second criterion by itself."""


class Reason(StrEnum):
    """Why an alert is in its state: stored with every transition."""

    OPENED_PENDING = "opened_pending"  # a fire signal, not verified yet: contacts first
    TROUBLE = "trouble"  # maintenance needs no verification
    RED_EVIDENCE = "red_evidence"
    SECOND_DEVICE = "second_device"
    SECOND_CRITERION = "second_criterion"
    PERSISTED = "persisted"  # the alarm held for the verification period
    LONG_ALARM = "long_alarm"  # a lone alarm under corroboration held very long
    NO_CONTACT_ACK = "no_contact_ack"  # positive alarm sequence: nobody answered in time
    NOT_DISMISSED = "not_dismissed"  # ... answered, but did not dismiss it in time
    OPERATOR_CONFIRMED = "operator_confirmed"
    CONTACT_ACK = "contact_ack"  # a venue contact is investigating the pending alert
    ACKNOWLEDGED = "acknowledged"
    STATION_ARRIVED = "station_arrived"  # the station reports it is on the scene
    CLEARED = "cleared_before_confirmation"
    DISMISSED = "dismissed_as_false"
    EXPIRED = "expired_unconfirmed"
    RESOLVED = "resolved"
    RESOLVED_FALSE = "resolved_false_alarm"


class FalseAlarm(StrEnum):
    FALSE = "false"
    DISMISSED = "dismissed"


FALSE_ALARMS: Final = {
    Reason.CLEARED: FalseAlarm.FALSE,
    Reason.EXPIRED: FalseAlarm.FALSE,
    Reason.RESOLVED_FALSE: FalseAlarm.FALSE,
    Reason.DISMISSED: FalseAlarm.DISMISSED,
}


@dataclass(frozen=True, slots=True)
class Verdict:
    state: AlertState
    reason: Reason | None  # None: no change
    next_check_at: datetime | None  # when time alone may change the verdict


def live(d: DeviceView, now: datetime, s: VerifySettings) -> bool:
    """In alarm now: its own alarm is on, or it signalled within the corroboration window."""
    if d.alarm_since is None:
        return False
    return d.alarming or (now - d.last_at).total_seconds() <= s.corroborate_s


def _corroborated(a: AlertView, devices: tuple[DeviceView, ...], now: datetime,
                  s: VerifySettings) -> Reason | None:  # fmt: skip
    live_devices = [d for d in devices if live(d, now, s)]
    if len(live_devices) >= 2:
        return Reason.SECOND_DEVICE
    window = timedelta(seconds=s.corroborate_s)
    recent = {c for c, t in a.criteria.items() if now - t <= window} - NOT_INDEPENDENT
    if live_devices and len(recent) >= 2:
        return Reason.SECOND_CRITERION
    return None


def _timers(a: AlertView, devices: tuple[DeviceView, ...], now: datetime,
            s: VerifySettings) -> tuple[Reason | None, list[datetime]]:  # fmt: skip
    """The policy's own clock: a confirmation that is due, or when the next one would be."""
    due: list[datetime] = []
    if a.policy == Policy.POSITIVE_ALARM_SEQUENCE:
        if a.contact_acked_at is None:
            at, reason = a.opened_at + timedelta(seconds=s.pas_ack_s), Reason.NO_CONTACT_ACK
        else:
            at = a.contact_acked_at + timedelta(seconds=s.pas_investigate_s)
            reason = Reason.NOT_DISMISSED
        if now >= at:
            return reason, []
        due.append(at)
    hold, reason = (
        (s.persist_s, Reason.PERSISTED)
        if a.policy == Policy.PERSISTENCE
        else (s.long_alarm_s, Reason.LONG_ALARM)
    )
    for d in devices:
        if d.alarm_since is not None:
            at = d.alarm_since + timedelta(seconds=hold)
            if now >= at:
                return reason, []
            due.append(at)
    return None, due


def verify(a: AlertView, now: datetime, s: VerifySettings) -> Verdict:  # noqa: PLR0911 - rules in order
    """The state a pending alert should be in now, why, and when to look again."""
    if a.state != AlertState.PENDING:
        return Verdict(a.state, None, None)
    if a.kind == AlertKind.TROUBLE:
        return Verdict(AlertState.CONFIRMED, Reason.TROUBLE, None)
    devices = a.counting()
    if devices and a.verify_level() == Level.RED:
        return Verdict(AlertState.CONFIRMED, Reason.RED_EVIDENCE, None)
    if devices:
        corroborated = _corroborated(a, devices, now, s)
        if corroborated is not None:
            return Verdict(AlertState.CONFIRMED, corroborated, None)
        if all(d.alarm_since is None and d.cleared_at is not None for d in devices):
            return Verdict(AlertState.RESOLVED, Reason.CLEARED, None)
        reason, due = _timers(a, devices, now, s)
        if reason is not None:
            return Verdict(AlertState.CONFIRMED, reason, None)
    else:
        due = []
    if not any(d.alarm_since is not None for d in devices):
        expires = a.last_signal_at + timedelta(seconds=s.pending_expiry_s)
        if now >= expires:
            return Verdict(AlertState.RESOLVED, Reason.EXPIRED, None)
        due.append(expires)
    return Verdict(AlertState.PENDING, None, min(due, default=None))


def flagged(false_alarms: int, dismissed: int, limit: int) -> bool:
    """More than `limit` false or dismissed alarms in a day flag a venue for follow-up.

    >>> flagged(5, 0, 5), flagged(4, 2, 5)
    (False, True)
    """
    return false_alarms + dismissed > limit
