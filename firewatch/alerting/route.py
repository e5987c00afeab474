"""Route: who is told, on which channels, and why.

A pending fire alert goes to the venue's own contacts first; only a confirmed one calls the
venue's responsible micro fire station. Unanswered, it escalates to the station chief, then the
subdistrict fire-safety office, then (red only) the nearest professional fire brigade. A
confirmed fire whose level rises (orange → red) is announced at once to everyone already called
about it. Trouble is maintenance: the venue contact and the grid staff, never a fire station.
Every notice except reminders is mirrored to the city operations platform (一网统管) by webhook.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from firewatch.alerting.directory import Directory
from firewatch.alerting.records import LEVEL_RANK, AlertKind, AlertState, AlertView
from firewatch.alerting.settings import Contacts
from firewatch.kernel.registry import Venue

PERSON_CHANNELS: Final = ("sms", "push")
CITY_PLATFORM: Final = "city_platform"


class Purpose(StrEnum):
    PENDING = "pending"  # an unconfirmed pre-alarm: go and look
    CONFIRMED = "confirmed"  # a confirmed fire: turn out
    REMINDER = "reminder"  # still not acknowledged
    ESCALATION = "escalation"  # nobody answered: the next one up
    UPGRADED = "upgraded"  # a called fire is worse now (orange → red)
    MAINTENANCE = "maintenance"  # device trouble
    STAND_DOWN = "stand_down"  # a confirmed alert was resolved
    FOLLOW_UP = "follow_up"  # the venue passed its false-alarm limit for the day


class Target(StrEnum):
    VENUE_CONTACTS = "venue_contacts"
    STATION = "station"
    STATION_CHIEF = "station_chief"
    OFFICE = "office"  # the subdistrict fire-safety office
    BRIGADE = "brigade"  # the nearest professional fire brigade
    GRID_STAFF = "grid_staff"
    PLATFORM = "city_platform"


class RouteReason(StrEnum):
    CONTACTS_FIRST = "contacts_first"
    RESPONSIBLE_STATION = "responsible_station"
    NOT_ACKNOWLEDGED = "not_acknowledged"
    ESCALATED = "escalated"
    LEVEL_RAISED = "level_raised_tell_those_called"
    MAINTENANCE = "maintenance_never_a_station"
    STAND_DOWN = "stand_down"
    FOLLOW_UP = "false_alarms_follow_up"


ESCALATION_TARGETS: Final = {1: Target.STATION_CHIEF, 2: Target.OFFICE, 3: Target.BRIGADE}

_FIRE: Final = {
    Purpose.PENDING: ((Target.VENUE_CONTACTS,), RouteReason.CONTACTS_FIRST),
    Purpose.CONFIRMED: ((Target.STATION, Target.VENUE_CONTACTS), RouteReason.RESPONSIBLE_STATION),
    Purpose.REMINDER: ((Target.STATION,), RouteReason.NOT_ACKNOWLEDGED),
    Purpose.FOLLOW_UP: ((Target.GRID_STAFF,), RouteReason.FOLLOW_UP),
}
_MAINTENANCE: Final = ((Target.VENUE_CONTACTS, Target.GRID_STAFF), RouteReason.MAINTENANCE)


@dataclass(frozen=True, slots=True)
class Recipient:
    target: Target
    channel: str
    address: str  # a phone (E.164), or the platform
    to: tuple[str, ...]  # the contract's `to`


@dataclass(frozen=True, slots=True)
class Route:
    purpose: Purpose
    step: int
    reason: RouteReason
    recipients: tuple[Recipient, ...]


def targets(kind: AlertKind, purpose: Purpose, step: int) -> tuple[tuple[Target, ...], RouteReason]:
    """Whom a notice of this purpose is for; trouble never reaches a station, whatever asks."""
    if kind == AlertKind.TROUBLE:
        return _MAINTENANCE
    if purpose == Purpose.ESCALATION:
        return (ESCALATION_TARGETS[step],), RouteReason.ESCALATED
    if purpose in (Purpose.UPGRADED, Purpose.STAND_DOWN):
        # Those called at confirmation and every step up reached so far (`step`): a chief, the
        # office or a brigade on its way must hear that it got worse, or that it is over. Whom
        # a new level adds later (the brigade, for red) escalation calls at its own time.
        called = tuple(ESCALATION_TARGETS[n] for n in sorted(ESCALATION_TARGETS) if n <= step)
        reason = RouteReason.LEVEL_RAISED if purpose == Purpose.UPGRADED else RouteReason.STAND_DOWN
        return (Target.STATION, Target.VENUE_CONTACTS, *called), reason
    if purpose == Purpose.MAINTENANCE:
        return _MAINTENANCE
    return _FIRE[purpose]


def phones(  # noqa: PLR0911 - one return per target, in the order of the enum
    target: Target, venue: Venue, directory: Directory, contacts: Contacts
) -> tuple[str, ...]:
    station = directory.station(venue.station_id)
    if target == Target.VENUE_CONTACTS:
        return venue.contacts
    if target == Target.STATION:
        return station.phones if station else ()
    if target == Target.STATION_CHIEF:
        chief = contacts.chiefs.get(venue.station_id)
        return tuple(chief) if chief else (station.phones[:1] if station else ())
    if target == Target.OFFICE:
        return contacts.office
    if target == Target.BRIGADE:
        brigade = directory.brigade(venue)
        return brigade.phones if brigade else ()
    if target == Target.GRID_STAFF:
        return tuple(contacts.grid_staff.get(venue.grid, ()))
    return ()


def route(kind: AlertKind, purpose: Purpose, step: int, *, venue: Venue,
          directory: Directory, contacts: Contacts, channels: Sequence[str]) -> Route:  # fmt: skip
    wanted, reason = targets(kind, purpose, step)
    out: list[Recipient] = []
    everyone: list[str] = []
    for target in wanted:
        for phone in dict.fromkeys(phones(target, venue, directory, contacts)):
            if phone in everyone:
                continue  # a contact who is also a station member is told once
            everyone.append(phone)
            out.extend(Recipient(target, c, phone, (phone,)) for c in PERSON_CHANNELS
                       if c in channels)  # fmt: skip
    if "webhook" in channels and purpose != Purpose.REMINDER:
        out.append(Recipient(Target.PLATFORM, "webhook", CITY_PLATFORM, tuple(everyone)))
    return Route(purpose, step, reason, tuple(out))


def purpose_due(alert: AlertView) -> Purpose | None:
    """The notice an alert's state calls for that has not gone out yet (None: nothing new).

    Muting is decided before this: a held alert is asked again when the hold ends.
    """
    done, state = alert.notified_state, alert.state
    if alert.kind == AlertKind.TROUBLE:
        return Purpose.MAINTENANCE if alert.open and done is None else None
    if state == AlertState.PENDING and done is None:
        return Purpose.PENDING
    if state == AlertState.CONFIRMED and done in (None, AlertState.PENDING):
        return Purpose.CONFIRMED
    if state == AlertState.RESOLVED and done in (AlertState.CONFIRMED, AlertState.ACKNOWLEDGED):
        return Purpose.STAND_DOWN
    if state in (AlertState.CONFIRMED, AlertState.ACKNOWLEDGED) and raised(alert):
        return Purpose.UPGRADED  # acknowledged too: the station on its way must know
    return None


def raised(alert: AlertView) -> bool:
    """Its level is above the one those called were last told (never for a drop, or before
    anyone was told: the confirmation notice names the level it has then)."""
    told = alert.notified_level
    return told is not None and LEVEL_RANK[alert.level] > LEVEL_RANK[told]
