"""The pure decisions about notifying, table-driven, one comment per row: route, escalate,
back off, rate-limit, classify failures, answer people, check links, command ports."""

from __future__ import annotations

from dataclasses import replace

import pytest

from firewatch.alerting.ack import (
    Answer,
    Claims,
    TokenCheck,
    check_token,
    decide_ack,
    decide_pending,
)
from firewatch.alerting.actuate import CommandReason, decide_command
from firewatch.alerting.channels import Failure, classify_status
from firewatch.alerting.deliver import backoff_s, held
from firewatch.alerting.escalate import EscalateReason, escalation, unanswered
from firewatch.alerting.records import AlertKind, AlertState, AlertView
from firewatch.alerting.route import Purpose, RouteReason, Target, purpose_due, targets
from firewatch.alerting.settings import DeliverySettings, EscalationSettings
from firewatch.kernel.contract import Level
from tests.alerting.factories import S, alert, dev, sig
from tests.alerting.support import SECRET, T0


@pytest.mark.parametrize(
    ("kind", "purpose", "step", "expected"),
    [
        # pending: the venue's own contacts first
        (AlertKind.FIRE, Purpose.PENDING, 0, ((Target.VENUE_CONTACTS,), RouteReason.CONTACTS_FIRST)),
        # confirmed: the responsible station (and the contacts)
        (AlertKind.FIRE, Purpose.CONFIRMED, 0,
         ((Target.STATION, Target.VENUE_CONTACTS), RouteReason.RESPONSIBLE_STATION)),
        (AlertKind.FIRE, Purpose.REMINDER, 1, ((Target.STATION,), RouteReason.NOT_ACKNOWLEDGED)),
        (AlertKind.FIRE, Purpose.ESCALATION, 1, ((Target.STATION_CHIEF,), RouteReason.ESCALATED)),
        (AlertKind.FIRE, Purpose.ESCALATION, 2, ((Target.OFFICE,), RouteReason.ESCALATED)),
        (AlertKind.FIRE, Purpose.ESCALATION, 3, ((Target.BRIGADE,), RouteReason.ESCALATED)),
        # worse now: those called at confirmation...
        (AlertKind.FIRE, Purpose.UPGRADED, 0,
         ((Target.STATION, Target.VENUE_CONTACTS), RouteReason.LEVEL_RAISED)),
        # ...and every step up already called, not the ones still to come
        (AlertKind.FIRE, Purpose.UPGRADED, 2,
         ((Target.STATION, Target.VENUE_CONTACTS, Target.STATION_CHIEF, Target.OFFICE),
          RouteReason.LEVEL_RAISED)),
        # over: those called at confirmation stand down, and every step up already called
        (AlertKind.FIRE, Purpose.STAND_DOWN, 0,
         ((Target.STATION, Target.VENUE_CONTACTS), RouteReason.STAND_DOWN)),
        (AlertKind.FIRE, Purpose.STAND_DOWN, 3,
         ((Target.STATION, Target.VENUE_CONTACTS, Target.STATION_CHIEF, Target.OFFICE,
           Target.BRIGADE), RouteReason.STAND_DOWN)),
        # trouble is maintenance whatever asks, never a station
        (AlertKind.TROUBLE, Purpose.MAINTENANCE, 0,
         ((Target.VENUE_CONTACTS, Target.GRID_STAFF), RouteReason.MAINTENANCE)),
        (AlertKind.TROUBLE, Purpose.CONFIRMED, 0,
         ((Target.VENUE_CONTACTS, Target.GRID_STAFF), RouteReason.MAINTENANCE)),
        (AlertKind.TROUBLE, Purpose.ESCALATION, 3,
         ((Target.VENUE_CONTACTS, Target.GRID_STAFF), RouteReason.MAINTENANCE)),
    ],
)  # fmt: skip
def test_targets(kind: AlertKind, purpose: Purpose, step: int,
                 expected: tuple[tuple[Target, ...], RouteReason]) -> None:  # fmt: skip
    assert targets(kind, purpose, step) == expected


P, C, A, R = AlertState.PENDING, AlertState.CONFIRMED, AlertState.ACKNOWLEDGED, AlertState.RESOLVED


@pytest.mark.parametrize(
    ("kind", "state", "notified", "expected"),
    [
        (AlertKind.FIRE, P, None, Purpose.PENDING),  # a new pre-alarm: tell the contacts
        (AlertKind.FIRE, P, P, None),  # already told
        (AlertKind.FIRE, C, P, Purpose.CONFIRMED),  # confirmed after the pre-alarm
        (AlertKind.FIRE, C, None, Purpose.CONFIRMED),  # confirmed at once (red), or after a mute
        (AlertKind.FIRE, C, C, None),  # the station knows (reminders are escalation's)
        (AlertKind.FIRE, A, C, None),  # acknowledged: nothing new
        (AlertKind.FIRE, R, C, Purpose.STAND_DOWN),  # resolved after the station was called
        (AlertKind.FIRE, R, P, None),  # a pre-alarm that cleared: the station never knew
        (AlertKind.TROUBLE, C, None, Purpose.MAINTENANCE),  # maintenance, once
        (AlertKind.TROUBLE, C, C, None),
    ],
)  # fmt: skip
def test_purpose_due(kind: AlertKind, state: AlertState, notified: AlertState | None,
                     expected: Purpose | None) -> None:  # fmt: skip
    a = replace(alert(dev("D1"), kind=kind, state=state), notified_state=notified)
    assert purpose_due(a) == expected


ORANGE, RED = Level.ORANGE, Level.RED


@pytest.mark.parametrize(
    ("state", "notified", "level", "told", "expected"),
    [
        (C, C, RED, ORANGE, Purpose.UPGRADED),  # called at orange, red now: tell them at once
        (A, C, RED, ORANGE, Purpose.UPGRADED),  # acknowledged: the station on its way must know
        (C, C, RED, RED, None),  # already told red: not again
        (C, C, ORANGE, RED, None),  # a drop in level is never announced
        (C, C, RED, None, None),  # nobody told any level yet (no notice went out)
        (C, P, RED, None, Purpose.CONFIRMED),  # confirmed at red: the call itself says red
        (R, C, RED, ORANGE, Purpose.STAND_DOWN),  # resolved: standing down is what matters
        (C, C, ORANGE, ORANGE, None),  # the same level: nothing new (reminders are escalation's)
    ],
)  # fmt: skip
def test_purpose_due_when_the_level_rises(state: AlertState, notified: AlertState,
                                          level: Level, told: Level | None,
                                          expected: Purpose | None) -> None:  # fmt: skip
    a = replace(alert(dev("D1"), state=state, level=level), notified_state=notified,
                notified_level=told)  # fmt: skip
    assert purpose_due(a) == expected


def test_trouble_is_never_upgraded() -> None:
    a = replace(alert(dev("D1"), kind=AlertKind.TROUBLE, state=C, level=Level.YELLOW),
                notified_state=C, notified_level=Level.BLUE)  # fmt: skip
    assert purpose_due(a) is None


E = EscalationSettings()  # chief 90 s, office 180 s, brigade 300 s, reminders every 60 s


def confirmed(level: Level = Level.ORANGE, step: int = 0, notified: float = 0,
              state: AlertState = AlertState.CONFIRMED,
              kind: AlertKind = AlertKind.FIRE) -> AlertView:  # fmt: skip
    return replace(alert(dev("D1"), state=state, level=level, kind=kind), confirmed_at=T0,
                   escalation_step=step, last_notified_at=T0 + notified * S)  # fmt: skip


@pytest.mark.parametrize(
    ("a", "at", "actions", "next_in"),
    [
        (confirmed(), 30, [], 60),  # nothing due; the first reminder at 60 s
        (confirmed(), 60, [(Purpose.REMINDER, 0)], None),  # the reminder interval passed
        # 90 s unacknowledged: the chief (a step replaces the reminder)
        (confirmed(notified=60), 90, [(Purpose.ESCALATION, 1)], None),
        # a late tick catches up every step at once
        (confirmed(notified=0), 200, [(Purpose.ESCALATION, 1), (Purpose.ESCALATION, 2)], None),
        (confirmed(step=2, notified=250), 400, [(Purpose.REMINDER, 2)], None),  # orange: no brigade
        (confirmed(Level.RED, step=2, notified=250), 300, [(Purpose.ESCALATION, 3)], None),
        (confirmed(state=AlertState.ACKNOWLEDGED), 900, [], None),  # acknowledged: it all stops
        # trouble: reminders once a day, no steps
        (confirmed(kind=AlertKind.TROUBLE), 3600, [], 86400),
    ],
)  # fmt: skip
def test_escalation(a: AlertView, at: float, actions: list[tuple[Purpose, int]],
                    next_in: float | None) -> None:  # fmt: skip
    due, upcoming = escalation(a, T0 + at * S, E)
    assert [(x.purpose, x.step) for x in due] == actions
    if not actions:
        assert upcoming == (None if next_in is None else T0 + next_in * S)


@pytest.mark.parametrize(
    ("a", "expected"),
    [
        (confirmed(), 1),  # the port did not answer: one step up at once
        (confirmed(step=2), None),  # orange tops out at the office
        (confirmed(Level.RED, step=2), 3),  # red goes on to the brigade
        (confirmed(state=AlertState.ACKNOWLEDGED), None),  # somebody has it already
    ],
)  # fmt: skip
def test_unanswered_command(a: AlertView, expected: int | None) -> None:
    action = unanswered(a)
    assert (action.step if action else None) == expected
    if action:
        assert action.reason == EscalateReason.ACTUATION_UNANSWERED


D = DeliverySettings(backoff_base_s=1.0, backoff_max_s=60.0, jitter=0.2)


@pytest.mark.parametrize(
    ("attempt", "failure", "retry_after", "u", "expected"),
    [
        (1, Failure.SERVER_ERROR, None, 0.5, 1.0),  # first retry after the base
        (4, Failure.SERVER_ERROR, None, 0.5, 8.0),  # doubling
        (4, Failure.TIMEOUT, None, 0.0, 6.4),  # jitter at its lowest: -20 %
        (4, Failure.CONNECTION, None, 1.0, 9.6),  # ... at its highest: +20 %
        (30, Failure.SERVER_ERROR, None, 0.5, 60.0),  # capped
        (1, Failure.RATE_LIMITED, 20.0, 0.5, 20.0),  # the receiver's Retry-After wins
        (1, Failure.RATE_LIMITED, 900.0, 0.5, 60.0),  # ... up to our cap
        (1, Failure.CLIENT_ERROR, None, 0.5, 60.0),  # needs a person: slowest pace at once
        (1, Failure.AUTH, None, 0.5, 60.0),  # likewise
    ],
)  # fmt: skip
def test_backoff(attempt: int, failure: Failure, retry_after: float | None, u: float,
                 expected: float) -> None:  # fmt: skip
    assert backoff_s(attempt, failure, retry_after, D, u) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("sent", "level", "expected"),
    [
        (9, "yellow", False),  # under the limit of 10 per window
        (10, "yellow", True),  # at the limit: held back
        (10, "orange", True),
        (50, "red", False),  # a fire call is never held back
    ],
)  # fmt: skip
def test_rate_limit(sent: int, level: str, expected: bool) -> None:
    assert held(sent, level, DeliverySettings(rate_limit=10)) is expected


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (200, None), (202, None),  # delivered
        (400, Failure.CLIENT_ERROR), (404, Failure.CLIENT_ERROR),  # our request or URL is wrong
        (401, Failure.AUTH), (403, Failure.AUTH),
        (408, Failure.TIMEOUT), (429, Failure.RATE_LIMITED),
        (500, Failure.SERVER_ERROR), (503, Failure.SERVER_ERROR),
        (302, Failure.CLIENT_ERROR),  # redirects are not followed: a wrong URL
    ],
)  # fmt: skip
def test_classify(status: int, expected: Failure | None) -> None:
    assert classify_status(status) == expected


@pytest.mark.parametrize(
    ("state", "investigating", "expected"),
    [
        (C, False, Answer.ACKNOWLEDGED),  # the station answers: escalation stops
        (P, False, Answer.INVESTIGATING),  # a contact answers a pre-alarm: investigation starts
        (P, True, Answer.ALREADY_INVESTIGATING),
        (A, False, Answer.ALREADY_ACKNOWLEDGED),
        (R, False, Answer.ALERT_RESOLVED),
    ],
)  # fmt: skip
def test_decide_ack(state: AlertState, investigating: bool, expected: Answer) -> None:
    assert decide_ack(state, investigating) == expected


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        (P, Answer.DISMISSED),  # only a pending alert is dismissed
        (C, Answer.NOT_PENDING),  # a confirmed one is resolved, not dismissed
        (R, Answer.ALERT_RESOLVED),
    ],
)  # fmt: skip
def test_decide_dismiss(state: AlertState, expected: Answer) -> None:
    assert decide_pending(state, Answer.DISMISSED) == expected


def _token(expires_in_s: float, secret: bytes = SECRET) -> str:
    from firewatch.alerting.ack import make_token

    return make_token(secret, Claims("AL-1", "+8613800000001", "N-1", T0 + expires_in_s * S))


@pytest.mark.parametrize(
    ("token", "at", "expected"),
    [
        (_token(60), 0, TokenCheck.VALID),  # fresh
        (_token(60), 60, TokenCheck.EXPIRED),  # at its expiry
        (_token(60, b"someone-elses-secret"), 0, TokenCheck.BAD_SIGNATURE),  # forged
        (_token(60)[:-2] + "xx", 0, TokenCheck.BAD_SIGNATURE),  # tampered signature
        ("eyJhIjoiQUwtMiJ9." + _token(60).split(".")[1], 0, TokenCheck.BAD_SIGNATURE),  # claims swapped
        (_token(60)[:-2] + "火灾", 0, TokenCheck.BAD_SIGNATURE),  # not even ASCII
        ("not-a-token", 0, TokenCheck.MALFORMED),
        ("", 0, TokenCheck.MALFORMED),
    ],
)  # fmt: skip
def test_check_token(token: str, at: float, expected: TokenCheck) -> None:
    assert check_token(SECRET, token, T0 + at * S)[0] == expected


def test_without_a_secret_no_link_is_accepted() -> None:
    assert check_token(b"", _token(60), T0)[0] == TokenCheck.NO_SECRET


@pytest.mark.parametrize(
    ("level", "kind", "port", "expected"),
    [
        (Level.RED, "charging", 3, CommandReason.SEND),  # thermal runaway on port 3
        (Level.ORANGE, "charging", 3, CommandReason.NOT_RED),  # only red cuts power
        (Level.RED, "smoke", None, CommandReason.NO_COMMAND),  # a detector has nothing to cut
        (Level.RED, "gas", None, CommandReason.SEND),  # gas: the valve, no port named
        (Level.RED, "charging", None, CommandReason.NO_PORT),  # which port? not said
    ],
)  # fmt: skip
def test_decide_command(level: Level, kind: str, port: int | None,
                        expected: CommandReason) -> None:  # fmt: skip
    s = replace(sig("C1", level=level), port=port)
    assert decide_command(s, kind) == expected
