"""Thermal runaway of an e-bike pack on a shed's charging port: the engine commands the port
off on the charger's `set` topic, the charger answers, the station is called, a case is open."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

import pytest

from tests.e2e.harness import alerts_at, delivered_once, live_engine, wait_for
from tests.support.mosquitto import PrivateMosquitto

pytestmark = pytest.mark.slow

SCENARIO = "thermal_runaway"
SKIP_S = 1150.0  # a minute before the port's own overtemp cut-off; the pack vents at 1,320 s
UNTIL_S = 1400.0  # before the station's electronics burn (its Last Will at 1,560 s)


def test_a_pack_in_thermal_runaway_has_its_port_cut_and_calls_the_station(
    fresh_db: str, broker: PrivateMosquitto
) -> None:
    with live_engine(fresh_db, broker, [SCENARIO], speed=30, skip_s=SKIP_S) as live:
        runaway, venue, station = live.scene(SCENARIO)
        charger = next(d for d in runaway.device_ids if d.startswith("CHG-"))
        found = re.search(r"port (\d+) of", runaway.what)
        assert found is not None, runaway.what
        port = int(found.group(1))
        until = live.run.start + timedelta(seconds=UNTIL_S)
        live.play([m for m in live.run.messages if m.at <= until])

        # The power-off command, on the charger's own `set` topic, for the runaway's port.
        commands = wait_for(live.devices.seen, "a command on a charging `set` topic")
        topic, command = commands[0]
        assert topic == f"fw/v1/charging/{charger}/set"
        assert (command["port"], command["power"]) == (port, "off"), command
        assert command["id"] and command["reason"], command

        # The charger's `power_off` answer, carrying the command's id, is matched to it.
        def answered() -> list[dict[str, Any]]:
            return live.rows(
                "SELECT * FROM actuation WHERE command_id = %s AND answered_at IS NOT NULL",
                command["id"],
            )

        (actuation,) = wait_for(answered, "the charger's answer recorded")
        assert (actuation["device_id"], actuation["port"]) == (charger, port)

        # The fire alert at the shed: confirmed while the pack was still heating (its heat rise
        # persisted), within the scenario's bound at the latest; red once it vented.
        def confirmed() -> list[dict[str, Any]]:
            return [a for a in alerts_at(live, venue.venue_id)
                    if a["kind"] == "fire" and a["confirmed_at"] is not None]  # fmt: skip

        (alert,) = wait_for(confirmed, "a confirmed fire alert at the shed")
        assert runaway.bound_s is not None
        assert alert["confirmed_at"] <= runaway.onset + timedelta(seconds=runaway.bound_s)
        assert alert["level"] == "red" and charger in alert["device_ids"], alert
        assert actuation["alert_id"] == alert["alert_id"]

        # Every phone of the shed's station got its call, in the contract's body.
        live.played()
        rows = delivered_once(live)
        calls = [r for r in rows.values() if r["purpose"] == "confirmed"
                 and r["channel"] == "sms" and r["recipient"] in station]  # fmt: skip
        assert sorted(r["recipient"] for r in calls) == sorted(station)
        for call in calls:
            sms = json.loads(call["body"])
            assert sms["level"] in ("orange", "red") and sms["alert_id"] == alert["alert_id"]
            assert venue.address in sms["text"] and "确认火警" in sms["text"], sms
        others = live.all_station_phones() - station
        assert not [r for r in rows.values() if r["recipient"] in others]

        # One command per port however much red evidence follows; the incident case, and the
        # hazard case of the port's own overtemp cut-off.
        assert [(t, c["id"]) for t, c in live.devices.seen()] == [(topic, command["id"])]
        cases = live.get("/api/v1/cases", venue_id=venue.venue_id)["items"]
        assert sorted((c["kind"], c["hazard"], c["stage"]) for c in cases) == [
            ("hazard", "charging_overtemp", "reported"),
            ("incident", "fire_incident", "registered"),
        ]
        incident = next(c for c in cases if c["kind"] == "incident")
        fire = next(
            a for a in alerts_at(live, venue.venue_id) if a["alert_id"] == alert["alert_id"]
        )
        assert incident["case_id"] == fire["case_id"]
