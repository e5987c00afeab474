"""The pure decisions about an alert, table-driven, one comment per row: verify, group,
mute, and what an input is to alerting."""

from __future__ import annotations

from dataclasses import replace

import pytest

from firewatch.alerting.group import Grouped, group
from firewatch.alerting.intake import Ignored, from_evidence, from_risk
from firewatch.alerting.mute import Muted, Scope, Silence, mute_alert, mute_signal
from firewatch.alerting.records import AlertKind, AlertState, AlertView, Policy, Signal, Source
from firewatch.alerting.verify import Reason, verify
from firewatch.kernel.contract import Level
from firewatch.rules.evidence import Category
from tests.alerting.factories import S, V, alert, dev, sig
from tests.alerting.support import T0, evidence


@pytest.mark.parametrize(
    ("a", "at", "state", "reason", "next_in"),
    [
        # one detector in alarm, 10 s in: wait for the 30 s verification period
        (alert(dev("D1")), 10, AlertState.PENDING, None, 30),
        # ... held for 30 s without hush or clear: confirmed
        (alert(dev("D1")), 30, AlertState.CONFIRMED, Reason.PERSISTED, None),
        # red evidence needs no verification at all
        (alert(dev("D1", level=Level.RED)), 0, AlertState.CONFIRMED, Reason.RED_EVIDENCE, None),
        # a red device whose signals were all muted counts for nothing: it expires unconfirmed
        (alert(dev("D1", level=Level.RED, muted="silenced_venue")), 1800, AlertState.RESOLVED,
         Reason.EXPIRED, None),
        # two detectors in alarm at once corroborate each other, under any policy
        (alert(dev("D1"), dev("D2", 5), policy=Policy.CORROBORATION), 5, AlertState.CONFIRMED,
         Reason.SECOND_DEVICE, None),
        # a second detector that signalled once, 70 s ago, without its own alarm, is not live
        (alert(dev("D1"), dev("D2", 0, alarming=False), policy=Policy.CORROBORATION), 70,
         AlertState.PENDING, None, 600),
        # smoke and heat within 60 s: a second criterion
        (alert(dev("D1"), criteria={"smoke": 0, "heat": 40}), 40, AlertState.CONFIRMED,
         Reason.SECOND_CRITERION, None),
        # a fused risk score is not an independent criterion
        (alert(dev("D1"), criteria={"smoke": 0, "risk": 5}, policy=Policy.CORROBORATION), 5,
         AlertState.PENDING, None, 600),
        # under corroboration a lone alarm waits (cooking), up to the long-alarm safety net
        (alert(dev("D1"), policy=Policy.CORROBORATION), 599, AlertState.PENDING, None, 600),
        (alert(dev("D1"), policy=Policy.CORROBORATION), 600, AlertState.CONFIRMED,
         Reason.LONG_ALARM, None),
        # hushed (no alarm episode), not cleared: nothing to confirm, expiry runs
        (alert(dev("D1", None, alarming=False)), 100, AlertState.PENDING, None, 1800),
        # every detector cleared by itself before confirmation: a false alarm
        (alert(dev("D1", None, alarming=False, cleared=True)), 20, AlertState.RESOLVED,
         Reason.CLEARED, None),
        # positive alarm sequence: nobody answered within 15 s
        (alert(dev("D1"), policy=Policy.POSITIVE_ALARM_SEQUENCE), 15, AlertState.CONFIRMED,
         Reason.NO_CONTACT_ACK, None),
        # ... answered at 5 s: the 180 s investigation window runs
        (alert(dev("D1"), policy=Policy.POSITIVE_ALARM_SEQUENCE, contact_ack=5), 100,
         AlertState.PENDING, None, 185),
        # ... and ran out without a dismissal
        (alert(dev("D1"), policy=Policy.POSITIVE_ALARM_SEQUENCE, contact_ack=5), 185,
         AlertState.CONFIRMED, Reason.NOT_DISMISSED, None),
        # trouble needs no verification
        (alert(dev("D1"), kind=AlertKind.TROUBLE), 0, AlertState.CONFIRMED, Reason.TROUBLE, None),
        # a confirmed alert is not verified again
        (alert(dev("D1"), state=AlertState.CONFIRMED), 900, AlertState.CONFIRMED, None, None),
    ],
)  # fmt: skip
def test_verify(a: AlertView, at: float, state: AlertState, reason: Reason | None,
                next_in: float | None) -> None:  # fmt: skip
    verdict = verify(a, T0 + at * S, V)
    assert (verdict.state, verdict.reason) == (state, reason)
    assert verdict.next_check_at == (None if next_in is None else T0 + next_in * S)


@pytest.mark.parametrize(
    ("current", "signal", "expected"),
    [
        (None, sig("D1"), Grouped.OPENED),  # nothing open at the venue: a new alert
        (None, sig("D1", level=Level.BLUE), Grouped.TOO_WEAK),  # blue fire evidence opens nothing
        # ... but blue trouble does (maintenance)
        (None, sig("D1", level=Level.BLUE, kind=AlertKind.TROUBLE), Grouped.OPENED),
        (alert(dev("D1")), sig("D2"), Grouped.NEW_DEVICE),  # another detector joins
        (alert(dev("D1")), sig("D1", level=Level.RED), Grouped.RAISED),  # same one, more urgent
        (alert(dev("D1", None)), sig("D1"), Grouped.REARMED),  # a hushed detector alarms again
        (alert(dev("D1")), sig("D1"), Grouped.REPEATED),  # nothing new: an update
        # weak evidence still joins an open alert (it is recorded there)
        (alert(dev("D1")), sig("D1", level=Level.BLUE), Grouped.REPEATED),
        # a fused risk score opens nothing: fusion counts an alarm and its rule twice, and
        # counts hazards (someone asleep in a shop) as risk too
        (None, replace(sig("OCC-1"), source=Source.MODEL), Grouped.NO_ALERT),
        # ... and on an open alert it is an annotation: no new device, no corroboration
        (alert(dev("D1")), replace(sig("D2", level=Level.RED), source=Source.MODEL),
         Grouped.ANNOTATION),
    ],
)  # fmt: skip
def test_group(current: AlertView | None, signal: Signal, expected: Grouped) -> None:
    assert group(current, signal, Level.YELLOW) == expected


def silence(scope: Scope, subject: str, start: float = -60, end: float = 3600) -> Silence:
    return Silence(scope, subject, T0 + start * S, T0 + end * S, "u-1", "drill")


@pytest.mark.parametrize(
    ("signal", "silences", "fire_confirmed", "expected"),
    [
        (sig("D1"), [], False, None),  # nothing holds it
        (sig("D1"), [silence(Scope.VENUE, "V-1")], False, Muted.SILENCED_VENUE),  # a drill here
        (sig("D1"), [silence(Scope.COMMUNITY, "梅园")], False, Muted.SILENCED_COMMUNITY),
        (sig("D1"), [silence(Scope.DEVICE, "D1")], False, Muted.SILENCED_DEVICE),  # maintenance
        # one of two devices in maintenance: the other one still speaks
        (sig("D1", "D2"), [silence(Scope.DEVICE, "D1")], False, None),
        (sig("D1"), [silence(Scope.VENUE, "V-1", end=-1)], False, None),  # it ended a second ago
        (sig("D1"), [silence(Scope.VENUE, "V-1", start=10)], False, None),  # not started yet
        (sig("D1"), [silence(Scope.VENUE, "V-9")], False, None),  # another venue's
        # trouble at a venue with a confirmed fire: inhibited
        (sig("D1", kind=AlertKind.TROUBLE), [], True, Muted.INHIBITED_BY_FIRE),
        (sig("D1"), [], True, None),  # a fire signal is never inhibited
    ],
)  # fmt: skip
def test_mute_signal(signal: Signal, silences: list[Silence], fire_confirmed: bool,
                     expected: Muted | None) -> None:  # fmt: skip
    assert mute_signal(signal, "梅园", silences, fire_confirmed, T0) == expected


@pytest.mark.parametrize(
    ("a", "silences", "expected"),
    [
        # the only counting device is silenced: the alert is held
        (alert(dev("D1")), [silence(Scope.DEVICE, "D1")], Muted.SILENCED_DEVICE),
        # a muted device does not count; the counting one is not silenced
        (alert(dev("D1", muted="silenced_device"), dev("D2")), [silence(Scope.DEVICE, "D1")],
         None),
        (alert(dev("D1")), [silence(Scope.COMMUNITY, "梅园")], Muted.SILENCED_COMMUNITY),
    ],
)  # fmt: skip
def test_mute_alert(a: AlertView, silences: list[Silence], expected: Muted | None) -> None:
    assert mute_alert(a, "梅园", silences, False, T0) == expected


class _Risk:
    def __init__(self, scope: str, level: Level, venue_id: str | None = "V-HOME") -> None:
        self.scope, self.subject_id, self.venue_id = scope, "SMK-1", venue_id
        self.at, self.score, self.level = T0, 80, level


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        (evidence("SMK-1", T0), AlertKind.FIRE),  # fire evidence: a fire signal
        (evidence("SMK-1", T0, category=Category.TROUBLE), AlertKind.TROUBLE),
        (evidence("SMK-1", T0, category=Category.HAZARD), Ignored.HAZARD_IS_A_CASE),
        (_Risk("device", Level.RED), Level.RED),  # a device's red risk: a signal (see group)
        (_Risk("device", Level.ORANGE), Level.ORANGE),
        (_Risk("device", Level.YELLOW), Ignored.BELOW_ORANGE),
        (_Risk("venue", Level.RED), Ignored.NOT_A_DEVICE_SCORE),  # made of device scores
    ],
)  # fmt: skip
def test_intake(item: object, expected: AlertKind | Level | Ignored) -> None:
    if isinstance(item, _Risk):
        risk = from_risk(item)
        assert (risk.level if isinstance(risk, Signal) else risk) == expected
        return
    out = from_evidence(item)  # type: ignore[arg-type]
    assert (out.kind if isinstance(out, Signal) else out) == expected
