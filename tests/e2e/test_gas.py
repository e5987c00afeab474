"""A gas leak in a restaurant kitchen, through the whole engine: the detector's readings over
MQTT, the rules (`gas.leak`), a red alert confirmed at once, the valve commanded shut on the
detector's `set` topic, its `valve_closed` answer matched, the station and the venue called
together, and a case open."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from firewatch.kernel.contract import DeviceKind
from tests.e2e.harness import alerts_at, delivered_once, live_engine, wait_for
from tests.support.mosquitto import PrivateMosquitto

pytestmark = pytest.mark.slow

SCENARIO = "gas_leak"
SKIP_S = 240.0  # most of the quiet lead-in: the leak starts at 300 s
AFTER_ONSET_S = 240.0  # enough for the alert, the command, its answer and the dispersal


def test_a_kitchen_gas_leak_shuts_the_valve_and_calls_venue_and_station(
    fresh_db: str, broker: PrivateMosquitto
) -> None:
    with live_engine(fresh_db, broker, [SCENARIO], speed=30, skip_s=SKIP_S) as live:
        leak, venue, station = live.scene(SCENARIO)
        (detector,) = leak.device_ids
        until = leak.onset + timedelta(seconds=AFTER_ONSET_S)
        live.play([m for m in live.run.messages if m.at <= until])

        # The close command, on the detector's own `set` topic: the valve, no port.
        commands = wait_for(lambda: live.devices.seen(DeviceKind.GAS), "a command to the valve")
        topic, command = commands[0]
        assert topic == f"fw/v1/gas/{detector}/set"
        assert command["valve"] == "close" and "port" not in command, command
        assert command["id"] and command["reason"].startswith("gas.leak"), command

        # The detector's `valve_closed` answer, carrying the command's id, is matched to it.
        def answered() -> list[dict[str, Any]]:
            return live.rows(
                "SELECT * FROM actuation WHERE command_id = %s AND answered_at IS NOT NULL",
                command["id"],
            )

        (actuation,) = wait_for(answered, "the valve's answer recorded")
        assert (actuation["device_id"], actuation["kind"], actuation["port"]) == (
            detector, "gas", None)  # fmt: skip

        # A red alert, confirmed within the scenario's bound of the gas reaching 20 % LEL.
        def confirmed() -> list[dict[str, Any]]:
            return [a for a in alerts_at(live, venue.venue_id)
                    if a["kind"] == "fire" and a["confirmed_at"] is not None]  # fmt: skip

        (alert,) = wait_for(confirmed, "a confirmed alert at the kitchen")
        assert leak.bound_s is not None
        assert alert["confirmed_at"] <= leak.onset + timedelta(seconds=leak.bound_s)
        assert alert["level"] == "red" and detector in alert["device_ids"], alert
        assert actuation["alert_id"] == alert["alert_id"]

        # The station and the venue's own contacts, at once and together, told it is gas.
        live.played()
        rows = delivered_once(live)
        confirmed_sms = [r for r in rows.values()
                         if r["purpose"] == "confirmed" and r["channel"] == "sms"]  # fmt: skip
        told = {r["recipient"] for r in confirmed_sms}
        assert station <= told, (station, told)
        assert set(venue.contacts) <= told, (venue.contacts, told)
        for sms in (json.loads(r["body"]) for r in confirmed_sms):
            assert sms["level"] == "red" and sms["alert_id"] == alert["alert_id"]
            assert "确认燃气泄漏" in sms["text"] and "严禁明火" in sms["text"], sms["text"]
            assert venue.address in sms["text"], sms["text"]
        others = live.all_station_phones() - station
        assert not [r for r in rows.values() if r["recipient"] in others]

        # One command however long the leak held; the engine never opened the valve; a case.
        assert [c["id"] for _, c in live.devices.seen(DeviceKind.GAS)] == [command["id"]]
        assert all(c.get("valve") == "close" for _, c in live.devices.seen(DeviceKind.GAS))
        cases = live.get("/api/v1/cases", venue_id=venue.venue_id)["items"]
        incident = [c for c in cases if c["kind"] == "incident"]
        assert [(c["hazard"], c["stage"]) for c in incident] == [
            ("gas_leak_incident", "registered")], cases  # fmt: skip
        fire = next(
            a for a in alerts_at(live, venue.venue_id) if a["alert_id"] == alert["alert_id"]
        )
        assert incident[0]["case_id"] == fire["case_id"]
