"""Alert lifecycles on a controllable clock against the real database: silences, inhibition,
trouble routing, false-alarm counting, people confirming and resolving by hand."""

from __future__ import annotations

from datetime import timedelta

from firewatch.alerting import Answer, Scope, Silence, add_silence, confirm, resolve
from firewatch.alerting.group import Grouped
from firewatch.ingest.liveness import OfflineReason, WentOffline
from firewatch.ingest.stream import Batch
from firewatch.kernel.contract import Level
from firewatch.rules.evidence import Category
from tests.alerting.support import (
    BRIGADE,
    CHIEF,
    GRID_STAFF,
    OFFICE,
    STATION_PHONES,
    Harness,
    event,
    evidence,
)

CONTACT_HOME = "+8613900000001"


def test_a_drill_silence_records_everything_and_notifies_nobody(h: Harness) -> None:
    conn = h.db
    add_silence(conn, Silence(Scope.VENUE, "V-HOME", h.now, h.now + timedelta(hours=1),
                              "u-office", "fire drill"), h.now)  # fmt: skip
    h.fire("SMK-1", Level.RED, sensed=("smoke", "heat"))
    h.advance(600)
    a = h.alert("V-HOME")
    assert a["state"] == "pending"  # muted evidence is shown, it does not confirm anything
    assert not h.notices(a["alert_id"])
    muted = h.db.execute("SELECT muted FROM alert_signal WHERE alert_id = %s",
                         (a["alert_id"],)).fetchall()  # fmt: skip
    assert muted == [("silenced_venue",)]
    h.advance(3600)  # the drill is over; nothing live: the pending alert expires, unnotified
    a = h.alert("V-HOME")
    assert (a["state"], a["resolution"]) == ("resolved", "expired_unconfirmed")
    assert not h.notices(a["alert_id"])


def test_a_silence_on_one_detector_does_not_hide_its_neighbour(h: Harness) -> None:
    add_silence(h.db, Silence(Scope.DEVICE, "SMK-1", h.now,
                h.now + timedelta(hours=2), "u-maint", "detector replacement"), h.now)  # fmt: skip
    h.fire("SMK-1")
    a = h.alert("V-HOME")
    assert not h.notices(a["alert_id"])
    h.fire("SMK-2")  # the other room: counted, so the alert now speaks
    assert h.recipients(a["alert_id"], "pending") == {CONTACT_HOME}
    h.advance(31)
    assert h.alert("V-HOME")["state"] == "confirmed"


def test_a_silence_during_a_confirmed_alert_holds_reminders_until_it_ends(h: Harness) -> None:
    h.fire("SMK-1", Level.RED)
    a = h.alert("V-HOME")
    add_silence(h.db, Silence(Scope.COMMUNITY, "梅园", h.now + timedelta(seconds=10),
                h.now + timedelta(seconds=400), "u-op", "maintenance"), h.now)  # fmt: skip
    h.advance(390)
    assert not h.notices(a["alert_id"], purpose="reminder")
    assert not h.notices(a["alert_id"], purpose="escalation")
    h.advance(20)  # the silence has ended: every step that fell due goes out now
    assert h.recipients(a["alert_id"], "escalation") == {CHIEF, OFFICE, BRIGADE}


def test_trouble_goes_to_the_contact_and_grid_staff_never_to_a_station(h: Harness) -> None:
    h.events(event("SMK-1", h.now, "tamper"), event("SMK-2", h.now, "low_battery"))
    a = h.alert("V-HOME", "trouble")
    assert (a["state"], a["level"]) == ("confirmed", "blue")
    assert h.recipients(a["alert_id"], "maintenance") == {CONTACT_HOME, GRID_STAFF}
    h.advance(7200)
    everyone = {n["recipient"] for n in h.notices(a["alert_id"]) if n["channel"] != "webhook"}
    assert everyone == {CONTACT_HOME, GRID_STAFF}
    assert not h.db.execute("SELECT 1 FROM alert WHERE kind = 'fire'").fetchall()


def test_trouble_a_fire_causes_is_inhibited_and_told_once_the_fire_is_over(h: Harness) -> None:
    h.fire("CHG-1", Level.RED, sensed=("gas", "heat"))
    fire = h.alert("V-SHED")
    h.stage.consume(_offline("SMK-5", h))
    h.stage.drain()
    trouble = h.alert("V-SHED", "trouble")
    assert (trouble["muted"], h.notices(trouble["alert_id"])) == ("inhibited_by_fire", [])
    resolve(h.db, fire["alert_id"], "u-station", h.now, h.stage.env())
    h.advance(61)
    assert h.recipients(trouble["alert_id"], "maintenance") == {"+8613900000003", GRID_STAFF}
    # those who were called about the fire are told to stand down
    assert set(STATION_PHONES) <= h.recipients(fire["alert_id"], "stand_down")


def _offline(device_id: str, h: Harness) -> Batch:
    return Batch(
        (), (WentOffline(device_id, "smoke", "V-SHED", h.now, OfflineReason.SILENT),), h.now
    )


def test_more_than_five_false_alarms_in_a_day_flag_the_venue(h: Harness) -> None:
    for n in range(6):
        h.events(event("SMK-1", h.now, "alarm", seq=2 * n))
        h.advance(5)
        out = h.events(event("SMK-1", h.now, "alarm_cleared", seq=2 * n + 1))
        h.advance(600)
    assert out[0].flagged
    # the grid staff and the city platform are asked to follow it up
    a = h.alert("V-HOME")
    assert h.recipients(a["alert_id"], "follow_up") == {GRID_STAFF}
    assert h.notices(a["alert_id"], purpose="follow_up", channel="webhook")
    row = h.db.execute(
        "SELECT false_alarms, flagged_at IS NOT NULL FROM venue_false_alarm"
    ).fetchone()
    assert row == (6, True)


def test_an_operator_confirms_by_hand_and_a_resolution_stands_everyone_down(h: Harness) -> None:
    h.fire("SMK-1")
    a = h.alert("V-HOME")
    conn, env = h.db, h.stage.env()
    assert confirm(conn, a["alert_id"], "u-operator", h.now, env) == Answer.CONFIRMED
    assert confirm(conn, a["alert_id"], "u-operator", h.now, env) == Answer.NOT_PENDING
    assert (
        resolve(conn, a["alert_id"], "u-operator", h.now, env, false_alarm=True) == Answer.RESOLVED
    )
    assert resolve(conn, a["alert_id"], "u-operator", h.now, env) == Answer.ALERT_RESOLVED
    assert [t[1:] for t in h.transitions(a["alert_id"])] == [
        ("pending", "opened_pending"), ("confirmed", "operator_confirmed"),
        ("resolved", "resolved_false_alarm")]  # fmt: skip
    assert h.recipients(a["alert_id"], "stand_down") == {*STATION_PHONES, CONTACT_HOME}


def test_weak_fire_signals_and_hazards_open_nothing(h: Harness) -> None:
    out = h.fire("SMK-1", Level.BLUE)
    assert out[0].grouped == Grouped.TOO_WEAK
    h.evidence(evidence("SMK-1", h.now, Level.YELLOW, category=Category.HAZARD))
    assert h.alerts() == []


def test_a_detector_under_test_in_maintenance_does_not_make_a_real_alert_worse(
    h: Harness,
) -> None:
    h.fire("SMK-1")
    h.advance(31)  # a real orange alert, confirmed: the station is called
    a = h.alert("V-HOME")
    assert (a["state"], a["level"]) == ("confirmed", "orange")
    add_silence(h.db, Silence(Scope.DEVICE, "SMK-2", h.now, h.now + timedelta(hours=1), "u-op",
                              "detector test"), h.now)  # fmt: skip
    h.fire("SMK-2", Level.RED, sensed=("smoke", "heat"))  # the technician's test smoke
    h.advance(400)
    a = h.alert("V-HOME")
    assert a["level"] == "orange", "the muted red is recorded on its device only"
    assert not h.notices(a["alert_id"], purpose="upgraded")
    assert BRIGADE not in h.recipients(a["alert_id"], "escalation")
