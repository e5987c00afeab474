"""A flaming fire in a home, from the detectors' MQTT readings to the station's phones, the
incident case and the API; the station acknowledges through the link in its SMS."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.e2e.harness import Live, alerts_at, delivered_once, history, live_engine, wait_for
from tests.support.mosquitto import PrivateMosquitto

pytestmark = pytest.mark.slow

SCENARIO = "flaming_fire"
SKIP_S = 240.0  # start a minute before ignition: the rest of the quiet lead-in is sent at once


def station_sms(live: Live, phones: set[str]) -> list[dict[str, Any]]:
    return [n for n in live.notices() if n["channel"] == "sms" and set(n["to"]) & phones]


def test_a_fire_calls_its_station_opens_an_incident_and_is_acknowledged(
    fresh_db: str, broker: PrivateMosquitto
) -> None:
    with live_engine(fresh_db, broker, [SCENARIO], speed=30, skip_s=SKIP_S) as live:
        fire, venue, station = live.scene(SCENARIO)
        origin = next(d for d in live.world.devices if d.device_id == fire.device_ids[0])
        live.play(live.run.messages)

        # Every phone of the responsible micro station gets its SMS.
        def called() -> list[dict[str, Any]]:
            found = station_sms(live, station)
            return found if {p for n in found for p in n["to"]} == station else []

        calls = wait_for(called, f"an SMS to each of {len(station)} phones of {venue.station_id}")
        for sms in calls:
            assert len(sms["to"]) == 1, sms
            assert sms["level"] in ("orange", "red"), sms  # the levels that call a station
            assert venue.name in sms["title"] and "火警" in sms["title"], sms
            assert venue.address in sms["text"] and origin.location in sms["text"], sms
            assert "确认火警" in sms["text"], sms  # confirmed: turn out
            assert sms["text"].endswith(sms["ack_url"]), "the link closes an SMS"
        alert_id = calls[0]["alert_id"]
        assert {n["alert_id"] for n in calls} == {alert_id}

        # A station member opens the link in their SMS: the alert is acknowledged.
        first = calls[0]
        answer = httpx.get(first["ack_url"], timeout=10)
        assert answer.status_code == 200, answer.text
        assert answer.json() == {"outcome": "acknowledged"}
        again = httpx.get(first["ack_url"], timeout=10)
        assert again.status_code == 410, "a link works once"

        live.played()
        (alert,) = alerts_at(live, venue.venue_id)
        assert alert["alert_id"] == alert_id
        assert (alert["kind"], alert["level"], alert["state"]) == ("fire", "red", "acknowledged")
        assert alert["acked_by"] == first["to"][0]
        assert alert["opened_at"] <= alert["confirmed_at"] <= alert["acked_at"] <= live.clock.now()
        assert set(fire.device_ids) >= set(alert["device_ids"]) >= {origin.device_id}
        states = [s for s, _ in history(live, alert_id)]
        assert states[0] in ("pending", "confirmed") and states[-1] == "acknowledged", states

        # The incident case, opened by the confirmation, as the API shows it.
        listed = live.get("/api/v1/cases", venue_id=venue.venue_id)["items"]
        assert [(c["kind"], c["hazard"], c["stage"]) for c in listed] == [
            ("incident", "fire_incident", "registered")
        ]
        case = live.get(f"/api/v1/cases/{listed[0]['case_id']}")
        assert case["case_id"] == alert["case_id"] and case["source"] == "alert"
        assert [h["reason"] for h in case["history"]][:1] == ["opened_from_alert"]
        assert case["history"][-1]["to_stage"] == "registered", case["history"]

        # The outbox: each notice once, the contract's body; one call per station phone; other
        # stations are not called, and nothing escalates once the station has answered.
        rows = delivered_once(live)
        confirmed = [r for r in rows.values() if r["purpose"] == "confirmed" and
                     r["channel"] == "sms" and r["recipient"] in station]  # fmt: skip
        assert sorted(r["recipient"] for r in confirmed) == sorted(station)
        others = live.all_station_phones() - station
        assert not [r for r in rows.values() if r["recipient"] in others]
        late = [r["purpose"] for r in rows.values() if r["created_at"] > alert["acked_at"]]
        assert not {"reminder", "escalation"} & set(late), late
        pending = {r["recipient"] for r in rows.values() if r["purpose"] == "pending"}
        assert not pending & station, "a pending alert tells the venue, not the station"
