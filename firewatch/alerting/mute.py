"""Mute: silences (maintenance, drills) and inhibition hold notifications, never the record.

A silence is time-boxed, per device, venue or community, with who and why; it lives in the
database (runtime state, not configuration). A signal that is muted is still recorded on its
alert and shown, but does not count for verification and calls nobody. While a fire alert is
confirmed at a venue, the trouble its fire causes there (detectors going offline, faults) is
inhibited: recorded, not notified separately.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

import psycopg

from firewatch.alerting.records import AlertKind, AlertView, Signal


class Scope(StrEnum):
    DEVICE = "device"
    VENUE = "venue"
    COMMUNITY = "community"


class Muted(StrEnum):
    SILENCED_COMMUNITY = "silenced_community"
    SILENCED_VENUE = "silenced_venue"
    SILENCED_DEVICE = "silenced_device"
    INHIBITED_BY_FIRE = "inhibited_by_fire"  # trouble at a venue with a confirmed fire


@dataclass(frozen=True, slots=True)
class Silence:
    scope: Scope
    subject_id: str
    starts_at: datetime
    ends_at: datetime
    created_by: str
    reason: str  # maintenance, fire drill, ...
    silence_id: int | None = None

    def active(self, now: datetime) -> bool:
        return self.starts_at <= now < self.ends_at


def _silenced(venue_id: str, community: str, devices: Iterable[str],
              silences: Sequence[Silence], now: datetime) -> Muted | None:  # fmt: skip
    live = [s for s in silences if s.active(now)]
    if any(s.scope == Scope.COMMUNITY and s.subject_id == community for s in live):
        return Muted.SILENCED_COMMUNITY
    if any(s.scope == Scope.VENUE and s.subject_id == venue_id for s in live):
        return Muted.SILENCED_VENUE
    quiet = {s.subject_id for s in live if s.scope == Scope.DEVICE}
    wanted = list(devices)
    if wanted and all(d in quiet for d in wanted):
        return Muted.SILENCED_DEVICE
    return None


def mute_signal(signal: Signal, community: str, silences: Sequence[Silence],
                fire_confirmed: bool, now: datetime) -> Muted | None:  # fmt: skip
    """Whether a signal is held, and by what (a silence first, then inhibition)."""
    held = _silenced(signal.venue_id, community, signal.device_ids, silences, now)
    if held is None and signal.kind == AlertKind.TROUBLE and fire_confirmed:
        return Muted.INHIBITED_BY_FIRE
    return held


def mute_alert(alert: AlertView, community: str, silences: Sequence[Silence],
               fire_confirmed: bool, now: datetime) -> Muted | None:  # fmt: skip
    """Whether notifications for an alert are held now (its counting devices all silenced...)."""
    devices = [d.device_id for d in alert.counting()] or [d.device_id for d in alert.devices]
    held = _silenced(alert.venue_id, community, devices, silences, now)
    if held is None and alert.kind == AlertKind.TROUBLE and fire_confirmed:
        return Muted.INHIBITED_BY_FIRE
    return held


def recheck_at(silences: Sequence[Silence], muted: Muted | None, now: datetime) -> datetime | None:
    """When a held alert should be looked at again: when its silence ends. An inhibited one is
    looked at when the venue's fire alert resolves (the store wakes it), not on a timer."""
    if muted is None or muted == Muted.INHIBITED_BY_FIRE:
        return None
    ends = [s.ends_at for s in silences if s.active(now)]
    return min(ends, default=now + timedelta(seconds=60))


# -- the silences themselves ---------------------------------------------------------------


def add_silence(conn: psycopg.Connection, silence: Silence, now: datetime) -> int:
    if silence.ends_at <= silence.starts_at:
        raise ValueError(f"silence of {silence.scope} {silence.subject_id}: ends before it starts")
    row = conn.execute(
        "INSERT INTO silence (scope, subject_id, starts_at, ends_at, created_by, reason,"
        " created_at) VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING silence_id",
        (silence.scope, silence.subject_id, silence.starts_at, silence.ends_at,
         silence.created_by, silence.reason, now),
    ).fetchone()  # fmt: skip
    assert row is not None
    return int(row[0])


def cancel_silence(conn: psycopg.Connection, silence_id: int, who: str, now: datetime) -> bool:
    """End a silence now; False when there is no such silence still running."""
    cur = conn.execute(
        "UPDATE silence SET cancelled_at = %s, cancelled_by = %s, ends_at = least(ends_at, %s)"
        " WHERE silence_id = %s AND cancelled_at IS NULL AND ends_at > %s",
        (now, who, now, silence_id, now),
    )
    return cur.rowcount == 1


def silences_for(conn: psycopg.Connection, venue_id: str, community: str,
                 device_ids: Sequence[str], now: datetime) -> list[Silence]:  # fmt: skip
    """The silences that hold this venue, its community or these devices now."""
    rows = conn.execute(
        "SELECT scope, subject_id, starts_at, ends_at, created_by, reason, silence_id"
        " FROM silence WHERE starts_at <= %(now)s AND ends_at > %(now)s AND ("
        " (scope = 'community' AND subject_id = %(community)s)"
        " OR (scope = 'venue' AND subject_id = %(venue)s)"
        " OR (scope = 'device' AND subject_id = ANY(%(devices)s)))",
        {"now": now, "community": community, "venue": venue_id, "devices": list(device_ids)},
    ).fetchall()
    return [Silence(Scope(r[0]), r[1], r[2], r[3], r[4], r[5], r[6]) for r in rows]
