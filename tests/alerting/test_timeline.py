"""Alert lifecycles on a controllable clock against the real database: verification,
grouping, re-notification, escalation, acknowledgement."""

from __future__ import annotations

from firewatch.alerting import Answer, acknowledge, dismiss, resolve
from firewatch.alerting.group import Grouped
from firewatch.kernel.contract import Level
from firewatch.rules.evidence import Category, Evidence, Scope
from tests.alerting.support import (
    BRIGADE,
    CHIEF,
    OFFICE,
    STATION_PHONES,
    Harness,
    event,
)

CONTACT_HOME = "+8613900000001"


def test_persistence_confirms_then_reminds_and_escalates_until_acknowledged(h: Harness) -> None:
    h.fire("SMK-1")
    a = h.alert("V-HOME")
    assert a["state"] == "pending"
    # A pending alert goes to the venue's own contacts first, never the station.
    assert h.recipients(a["alert_id"], "pending") == {CONTACT_HOME}
    assert not h.notices(a["alert_id"], purpose="confirmed")
    h.advance(29)
    assert h.alert("V-HOME")["state"] == "pending"
    h.advance(2)  # the 30 s verification period has passed without hush or clear
    a = h.alert("V-HOME")
    assert (a["state"], a["level"]) == ("confirmed", "orange")
    assert h.recipients(a["alert_id"], "confirmed") == {*STATION_PHONES, CONTACT_HOME}
    assert {n["channel"] for n in h.notices(a["alert_id"], purpose="confirmed")} == {
        "sms", "push", "webhook"}  # fmt: skip
    h.advance(60)  # one reminder interval after confirmation
    assert len(h.notices(a["alert_id"], purpose="reminder", channel="sms")) == len(STATION_PHONES)
    h.advance(30)  # 90 s: the station chief
    assert h.recipients(a["alert_id"], "escalation") == {CHIEF}
    h.advance(90)  # 180 s: the subdistrict office
    assert h.recipients(a["alert_id"], "escalation") == {CHIEF, OFFICE}
    h.advance(200)  # orange never reaches the brigade
    assert BRIGADE not in h.recipients(a["alert_id"], "escalation")
    assert acknowledge(h.db, a["alert_id"], STATION_PHONES[0], h.now,
                       h.stage.env()) == Answer.ACKNOWLEDGED  # fmt: skip
    before = len(h.notices(a["alert_id"]))
    h.advance(3600)  # acknowledged: no more reminders or steps
    assert len(h.notices(a["alert_id"])) == before
    a = h.alert("V-HOME")
    assert (a["state"], a["acked_by"]) == ("acknowledged", STATION_PHONES[0])
    assert [t[1:] for t in h.transitions(a["alert_id"])] == [
        ("pending", "opened_pending"), ("confirmed", "persisted"),
        ("acknowledged", "acknowledged")]  # fmt: skip


def test_red_evidence_confirms_at_once_and_climbs_to_the_brigade(h: Harness) -> None:
    h.fire("SMK-1", Level.RED, sensed=("smoke", "heat"))
    a = h.alert("V-HOME")
    assert (a["state"], a["confirmed_at"]) == ("confirmed", h.now)
    assert h.transitions(a["alert_id"])[-1][2] == "red_evidence"
    h.advance(301)
    assert h.recipients(a["alert_id"], "escalation") == {CHIEF, OFFICE, BRIGADE}
    steps = h.db.execute(
        "SELECT step, target, reason FROM alert_escalation ORDER BY step"
    ).fetchall()
    assert steps == [(1, "station_chief", "not_acknowledged_in_time"),
                     (2, "office", "not_acknowledged_in_time"),
                     (3, "brigade", "not_acknowledged_in_time")]  # fmt: skip


def test_hush_holds_verification_and_a_clear_resolves_it_as_a_false_alarm(h: Harness) -> None:
    h.events(event("SMK-1", h.now, "alarm"))
    a = h.alert("V-HOME")
    assert a["state"] == "pending"
    h.advance(10)
    h.events(event("SMK-1", h.now, "silenced"))  # the occupant presses hush after 10 s
    h.advance(120)
    assert h.alert("V-HOME")["state"] == "pending"  # hushed: the alarm did not hold
    h.events(event("SMK-1", h.now, "alarm_cleared"))
    a = h.alert("V-HOME")
    assert (a["state"], a["resolution"]) == ("resolved", "cleared_before_confirmation")
    assert not h.notices(a["alert_id"], purpose="confirmed")
    counts = h.db.execute("SELECT false_alarms, dismissed FROM venue_false_alarm").fetchall()
    assert counts == [(1, 0)]


def test_several_detectors_make_one_alert_and_a_second_one_corroborates(h: Harness) -> None:
    # The kitchen's policy is corroboration: its own alarm holding is not enough.
    out = h.events(event("SMK-3", h.now, "alarm"))
    assert out[0].grouped == Grouped.OPENED
    h.advance(120)
    assert h.alert("V-KITCHEN")["state"] == "pending"
    assert h.fire("SMK-3")[0].grouped == Grouped.RAISED  # orange evidence over its yellow alarm
    out = h.fire("SMK-3")
    assert out[0].grouped == Grouped.REPEATED  # the same detector again updates, not reopens
    out = h.fire("SMK-4")
    assert out[0].grouped == Grouped.NEW_DEVICE
    alerts = h.alerts()
    assert len(alerts) == 1
    a = alerts[0]
    assert (a["state"], a["signals"]) == ("confirmed", 4)
    assert h.transitions(a["alert_id"])[-1][2] == "second_device"
    devices = h.db.execute("SELECT device_id FROM alert_device ORDER BY device_id").fetchall()
    assert devices == [("SMK-3",), ("SMK-4",)]


def test_a_second_criterion_corroborates_and_a_lone_kitchen_alarm_does_not(h: Harness) -> None:
    h.fire("SMK-3", sensed=("smoke",))
    h.advance(240)
    assert h.alert("V-KITCHEN")["state"] == "pending"  # cooking-like: smoke alone, for minutes
    h.fire("SMK-3", sensed=("smoke",))
    h.advance(20)
    h.fire("SMK-3", sensed=("heat",))  # heat within 60 s of smoke
    a = h.alert("V-KITCHEN")
    assert (a["state"], h.transitions(a["alert_id"])[-1][2]) == ("confirmed", "second_criterion")


def test_positive_alarm_sequence_without_an_answer_confirms_in_15_s(h: Harness) -> None:
    h.fire("SMK-6")
    h.advance(14)
    assert h.alert("V-HOTEL")["state"] == "pending"
    h.advance(1)
    a = h.alert("V-HOTEL")
    assert (a["state"], h.transitions(a["alert_id"])[-1][2]) == ("confirmed", "no_contact_ack")


def test_positive_alarm_sequence_investigation_then_dismissal_or_confirmation(h: Harness) -> None:
    h.fire("SMK-6")
    a = h.alert("V-HOTEL")
    h.advance(5)
    env, conn = h.stage.env(), h.db
    assert acknowledge(conn, a["alert_id"], "+8613900000004", h.now, env) == Answer.INVESTIGATING
    h.advance(170)  # inside the 180 s investigation window
    assert h.alert("V-HOTEL")["state"] == "pending"
    assert dismiss(conn, a["alert_id"], "+8613900000004", h.now, env) == Answer.DISMISSED
    a = h.alert("V-HOTEL")
    assert (a["state"], a["resolution"], a["contact_acked_by"]) == (
        "resolved", "dismissed_as_false", "+8613900000004")  # fmt: skip
    assert h.db.execute("SELECT dismissed FROM venue_false_alarm").fetchone() == (1,)
    # The next one is answered but not dismissed in time: it confirms at 5 + 180 s.
    h.fire("SMK-6")
    b = h.alert("V-HOTEL")
    h.advance(5)
    acknowledge(conn, b["alert_id"], "+8613900000004", h.now, env)
    h.advance(179)
    assert h.alert("V-HOTEL")["state"] == "pending"
    h.advance(1)
    b = h.alert("V-HOTEL")
    assert (b["state"], h.transitions(b["alert_id"])[-1][2]) == ("confirmed", "not_dismissed")


def test_a_red_finding_about_the_whole_venue_confirms_too(h: Harness) -> None:
    venue_wide = Evidence("venue.coincidence", 1, Category.FIRE, Level.RED, Scope.VENUE, "V-HOME",
                          "V-HOME", (), h.now, "three detectors within a minute", ())  # fmt: skip
    h.evidence(venue_wide)
    a = h.alert("V-HOME")
    assert (a["state"], h.transitions(a["alert_id"])[-1][2]) == ("confirmed", "red_evidence")


def test_risk_scores_are_shown_on_an_alert_and_decide_nothing(h: Harness) -> None:
    class Score:  # a models.fusion.RiskScore as alerting reads it
        def __init__(self, device_id: str, level: Level) -> None:
            self.scope, self.subject_id, self.venue_id = "device", device_id, "V-HOME"
            self.at, self.score, self.level = h.now, 85, level

    h.stage.take(scores=[Score("SMK-1", Level.RED)])
    h.stage.drain()
    assert h.alerts() == []  # red risk alone opens nothing
    h.fire("SMK-1")
    h.stage.take(scores=[Score("SMK-2", Level.RED)])  # another device's red risk
    h.stage.drain()
    h.advance(10)
    a = h.alert("V-HOME")
    assert (a["state"], a["signals"]) == ("pending", 2)  # recorded, not a second detector
    names = h.db.execute("SELECT name, grouped FROM alert_signal ORDER BY signal_id").fetchall()
    assert names == [("smoke_rise", "opened"), ("risk", "annotation")]


def test_a_resolution_stands_down_every_step_up_already_called(h: Harness) -> None:
    h.fire("SMK-1", Level.RED, sensed=("smoke", "heat"))
    a = h.alert("V-HOME")
    h.advance(400)  # nobody answers: chief, office, then the brigade are called
    assert BRIGADE in h.recipients(a["alert_id"], "escalation")
    assert resolve(h.db, a["alert_id"], "u-operator", h.now, h.stage.env()) == Answer.RESOLVED
    assert h.recipients(a["alert_id"], "stand_down") == {
        *STATION_PHONES,
        CONTACT_HOME,
        CHIEF,
        OFFICE,
        BRIGADE,
    }, "a brigade on its way is told it is over"
