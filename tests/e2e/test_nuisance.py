"""Cooking fumes trip a restaurant kitchen's detector for a few minutes and clear by themselves:
the venue is told to go and look, no station is called, and the alert closes as a false alarm."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from tests.e2e.harness import alerts_at, delivered_once, history, live_engine, wait_for
from tests.support.mosquitto import PrivateMosquitto

pytestmark = pytest.mark.slow

SCENARIO = "cooking_fumes"
SEED = 1  # its first frying episode trips the detector (alarm 420 s in, cleared at 625 s)
SKIP_S = 360.0
UNTIL_S = 760.0  # the first episode and the kitchen's air settling; the later ones add nothing


def test_cooking_fumes_that_clear_call_no_station_and_end_as_a_false_alarm(
    fresh_db: str, broker: PrivateMosquitto
) -> None:
    with live_engine(fresh_db, broker, [SCENARIO], seed=SEED, speed=40, skip_s=SKIP_S) as live:
        fumes = live.truth(SCENARIO)
        venue = live.world.venue(fumes.venue_id)
        until = live.run.start + timedelta(seconds=UNTIL_S)
        messages = [m for m in live.run.messages if m.at <= until]
        events = [json.loads(m.payload)["event"] for m in messages if m.topic.endswith("/event")]
        assert events == ["alarm", "alarm_cleared"], "the detector itself alarms, then clears"
        live.play(messages)

        # The detector's alarm opens a pending alert: the restaurant's own people are told.
        opened = wait_for(lambda: alerts_at(live, venue.venue_id), "an alert at the restaurant")
        assert opened[0]["kind"] == "fire" and opened[0]["confirmed_at"] is None, opened
        live.played()

        # The fumes clear by themselves: the alert resolves unconfirmed, a false alarm.
        (alert,) = wait_for(
            lambda: [a for a in alerts_at(live, venue.venue_id) if a["state"] == "resolved"],
            "the alert resolved",
        )
        assert alert["confirmed_at"] is None and alert["acked_at"] is None, alert
        assert alert["resolution"] == "cleared_before_confirmation", alert
        assert history(live, alert["alert_id"]) == [
            ("pending", "opened_pending"),
            ("resolved", "cleared_before_confirmation"),
        ]
        (count,) = live.rows(
            "SELECT false_alarms FROM venue_false_alarm WHERE venue_id = %s", venue.venue_id
        )
        assert count["false_alarms"] == 1

        # Nobody at any station got anything; the pre-alarm went to the venue's contacts only.
        rows = delivered_once(live)
        stations = live.all_station_phones()
        assert not [n for n in live.notices() if set(n["to"]) & stations]
        assert {r["purpose"] for r in rows.values()} <= {"pending"}
        told = {r["recipient"] for r in rows.values() if r["channel"] == "sms"}
        assert told == set(venue.contacts), (told, venue.contacts)

        # No case for a nuisance.
        assert live.get("/api/v1/cases", venue_id=venue.venue_id)["items"] == []
