"""Group: several detectors of one venue make one alert; repeated evidence updates it.

The key is (venue, kind): one open fire alert and one open maintenance alert per venue at a
time (a unique partial index makes the database hold to it even under concurrent workers). A
fused risk score only annotates the open fire alert: it opens, raises and confirms nothing.
`group` names what a signal does to the venue's open alert; `opened` and `merged` give the
alert as it is after the signal — pure, so that the store only writes what was decided.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from enum import StrEnum

from firewatch.alerting.records import (
    LEVEL_RANK,
    AlertKind,
    AlertState,
    AlertView,
    DeviceView,
    Policy,
    Signal,
    Source,
    higher,
)
from firewatch.kernel.contract import Level


class Grouped(StrEnum):
    OPENED = "opened"  # no open alert of its kind at the venue: a new one
    NEW_DEVICE = "new_device"  # another device joins the venue's open alert
    RAISED = "level_raised"  # the same devices, a more urgent level
    REARMED = "rearmed"  # a hushed or cleared device signals again
    REPEATED = "repeated"  # nothing new: the alert is updated, not reopened
    TOO_WEAK = "too_weak"  # a fire signal below the opening level, and no alert to join
    ANNOTATION = "annotation"  # a risk score: recorded on the open alert, deciding nothing
    NO_ALERT = "no_alert_to_annotate"  # a risk score, and no open fire alert at the venue


def group(alert: AlertView | None, signal: Signal, open_at: Level) -> Grouped:
    """What `signal` does to the venue's open alert of its kind (`alert`, or None).

    >>> from datetime import UTC, datetime
    >>> t = datetime(2026, 5, 1, tzinfo=UTC)
    >>> s = Signal(AlertKind.FIRE, Level.BLUE, "V", ("D",), frozenset({"smoke"}), Source.RULE,
    ...            "r", 1, t, "")
    >>> group(None, s, Level.YELLOW)
    <Grouped.TOO_WEAK: 'too_weak'>
    """
    if signal.source == Source.MODEL:
        return Grouped.NO_ALERT if alert is None else Grouped.ANNOTATION
    if alert is None:
        weak = signal.kind == AlertKind.FIRE and LEVEL_RANK[signal.level] < LEVEL_RANK[open_at]
        return Grouped.TOO_WEAK if weak else Grouped.OPENED
    known = {d.device_id: d for d in alert.devices}
    if any(device not in known for device in signal.device_ids):
        return Grouped.NEW_DEVICE
    if LEVEL_RANK[signal.level] > LEVEL_RANK[alert.level]:
        return Grouped.RAISED
    if any(known[device].alarm_since is None for device in signal.device_ids):
        return Grouped.REARMED
    return Grouped.REPEATED


def _device(d: DeviceView | None, signal: Signal, device_id: str, now: datetime,
            muted: str | None) -> DeviceView:  # fmt: skip
    own_alarm = signal.source == Source.DEVICE and signal.name == "alarm"
    if d is None:
        return DeviceView(device_id, signal.level, muted, now, now, now, own_alarm)
    if muted is not None:
        # Recorded and shown, not counted: a muted signal never re-arms a device.
        return replace(d, last_at=now, level=higher(d.level, signal.level) if d.muted else d.level)
    was_muted = d.muted is not None
    return replace(
        d,
        level=signal.level if was_muted else higher(d.level, signal.level),
        muted=None,
        last_at=now,
        alarm_since=d.alarm_since if d.alarm_since is not None and not was_muted else now,
        alarming=own_alarm or (d.alarming and not was_muted),
    )


def _apply(alert: AlertView, signal: Signal, now: datetime, muted: str | None) -> AlertView:
    known = {d.device_id: d for d in alert.devices}
    for device_id in signal.device_ids:
        known[device_id] = _device(known.get(device_id), signal, device_id, now, muted)
    criteria = dict(alert.criteria)
    if muted is None:
        criteria.update(dict.fromkeys(signal.criteria, now))
    return replace(
        alert,
        # A muted signal is recorded on its device, but does not make the alert more urgent: a
        # detector under test in maintenance must not call the brigade to a real, milder alert.
        level=alert.level if muted is not None else higher(alert.level, signal.level),
        devices=tuple(known.values()),
        criteria=criteria,
        last_signal_at=now,
        summary=signal.summary,
    )


def opened(alert_id: str, signal: Signal, policy: Policy, now: datetime,
           muted: str | None) -> AlertView:  # fmt: skip
    """A new alert made of its first signal, pending (verification decides what comes next)."""
    empty = AlertView(alert_id, signal.venue_id, signal.kind, signal.level, AlertState.PENDING,
                      policy, now, None, None, None, now)  # fmt: skip
    return _apply(empty, signal, now, muted)


def merged(alert: AlertView, signal: Signal, now: datetime, muted: str | None) -> AlertView:
    """The open alert with one more signal in it."""
    return _apply(alert, signal, now, muted)
