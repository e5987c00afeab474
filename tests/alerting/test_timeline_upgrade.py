"""A called fire that gets worse (orange → red) on a manual clock against the real database:
those already called are told at once, once per level, acknowledged or not; a silence holds
the notice until it ends; escalation follows the new level."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import psycopg

from firewatch.alerting import Answer, Deliverer, Scope, Silence, acknowledge, add_silence
from firewatch.alerting.outbox import notification_id
from firewatch.kernel.contract import Level
from tests.alerting.receiver import Receiver, receiver, with_receiver
from tests.alerting.support import (
    BRIGADE,
    CHIEF,
    OFFICE,
    SETTINGS,
    STATION_PHONES,
    Harness,
    seed,
)

CONTACT_HOME = "+8613900000001"


def _confirmed_orange(h: Harness) -> dict[str, Any]:
    h.fire("SMK-1")
    h.advance(31)  # the alarm held 30 s: the station is called at orange
    a = h.alert("V-HOME")
    assert (a["state"], a["level"], a["notified_level"]) == ("confirmed", "orange", "orange")
    return a


def _red(h: Harness, device_id: str = "SMK-1") -> None:
    """Red evidence: smoke and a heat rise (a second criterion) at once."""
    h.fire(device_id, Level.RED, sensed=("smoke", "heat"))


def _received(r: Receiver, channel: str) -> list[dict[str, Any]]:
    """Every distinct notification the receiver got on a channel, as posted."""
    with r.lock:
        bodies = [json.loads(b[0]) for b in r.bodies.values()]
    return [b for b in bodies if b["channel"] == channel]


def _deliver(d: Deliverer) -> None:
    while d.deliver_due():
        pass


def test_a_called_fire_turning_red_reaches_the_stations_phones_at_once_and_once(
    fresh_db: str,
) -> None:
    seed(fresh_db)
    with receiver() as r:
        settings = with_receiver(SETTINGS, r)
        h = Harness(fresh_db, settings)
        deliverer = Deliverer(lambda: psycopg.connect(fresh_db), h.clock, settings.delivery)
        try:
            a = _confirmed_orange(h)
            _deliver(deliverer)
            called = {b["id"] for b in _received(r, "sms")}
            h.advance(10)
            _red(h)  # a second criterion: heat
            _deliver(deliverer)
            upgraded = [b for b in _received(r, "sms") if b["id"] not in called]
            station = sorted((b for b in upgraded if b["to"][0] in STATION_PHONES),
                             key=lambda b: b["to"])  # fmt: skip
            assert [b["to"] for b in station] == [[p] for p in sorted(STATION_PHONES)]
            for sms in station:
                assert (sms["level"], sms["alert_id"]) == ("red", a["alert_id"])
                assert sms["title"] == "【警情升级·红色】V-HOME 场所"
                assert "由橙色升级为红色" in sms["text"] and sms["ack_url"], sms
            rows = h.notices(a["alert_id"], purpose="upgraded")
            assert {n["created_at"] for n in rows} == {h.now}  # at once, not at a reminder
            assert {n["recipient"] for n in rows} == {*STATION_PHONES, CONTACT_HOME,
                                                      "city_platform"}  # fmt: skip
            # a new id, from a key naming the level (3: red), so that a later level gets its own
            sms_rows = [n for n in rows if n["channel"] == "sms"]
            assert all(n["idem_key"].startswith(f"{a['alert_id']}/upgraded/0/3/sms/")
                       and n["notification_id"] == notification_id(n["idem_key"])
                       for n in sms_rows)  # fmt: skip
            before = len(h.notices(a["alert_id"]))
            _red(h)  # the same level again
            _red(h, "SMK-2")  # and from the next room
            _deliver(deliverer)
            assert len(h.notices(a["alert_id"])) == before
            assert len(_received(r, "sms")) == len(called) + len(upgraded)
        finally:
            deliverer.close()
            h.close()


def test_those_called_by_escalation_are_told_and_escalation_follows_red(h: Harness) -> None:
    a = _confirmed_orange(h)
    h.advance(100)  # the chief has been called (90 s), the office not yet (180 s)
    assert h.recipients(a["alert_id"], "escalation") == {CHIEF}
    _red(h)
    assert h.recipients(a["alert_id"], "upgraded") == {*STATION_PHONES, CONTACT_HOME, CHIEF}
    h.advance(200)  # red now: past 300 s from confirmation the brigade is called too
    assert h.recipients(a["alert_id"], "escalation") == {CHIEF, OFFICE, BRIGADE}
    assert len(h.notices(a["alert_id"], purpose="upgraded", channel="sms")) == 4  # still once


def test_an_acknowledged_fire_turning_red_is_still_announced(h: Harness) -> None:
    a = _confirmed_orange(h)
    h.advance(20)
    assert acknowledge(h.db, a["alert_id"], STATION_PHONES[0], h.now,
                       h.stage.env()) == Answer.ACKNOWLEDGED  # fmt: skip
    h.advance(120)
    before = len(h.notices(a["alert_id"]))
    _red(h)  # the station is on its way: it must know it is worse
    rows = h.notices(a["alert_id"], purpose="upgraded", channel="sms")
    assert {n["recipient"] for n in rows} == {*STATION_PHONES, CONTACT_HOME}
    assert {n["level"] for n in rows} == {"red"}
    after = len(h.notices(a["alert_id"]))
    assert after == before + len(h.notices(a["alert_id"], purpose="upgraded"))
    h.advance(900)  # acknowledged: no reminders, no steps, no repeat
    assert len(h.notices(a["alert_id"])) == after
    assert h.alert("V-HOME")["state"] == "acknowledged"


def test_a_silenced_fire_turning_red_is_announced_when_red_comes_after_the_silence(
    h: Harness,
) -> None:
    a = _confirmed_orange(h)
    ends = h.now + timedelta(seconds=300)
    add_silence(h.db, Silence(Scope.VENUE, "V-HOME", h.now, ends, "u-op", "maintenance"), h.now)
    h.advance(5)
    _red(h)  # muted: recorded on its device, not counted (a detector under test, say)
    h.advance(290)
    row = h.alert("V-HOME")
    assert (row["level"], row["notified_level"]) == ("orange", "orange")
    assert not h.notices(a["alert_id"], purpose="upgraded")
    h.advance(10)  # the silence is over
    assert not h.notices(a["alert_id"], purpose="upgraded")
    _red(h)  # the fire really is worse: told at once, to every step up reached meanwhile too
    rows = h.notices(a["alert_id"], purpose="upgraded", channel="sms")
    assert {n["recipient"] for n in rows} == {*STATION_PHONES, CONTACT_HOME, CHIEF, OFFICE}
    assert {(n["level"], n["created_at"]) for n in rows} == {("red", h.now)}
