"""One-shot alarms across kill -9 (issue 15): a detector sends its alarm once and goes back to
sleep; the engine is killed at a seeded instant after the alarm's row is stored — before,
during or after evaluation — and restarted. Every alarm still reaches its station exactly once:
one alert per venue, one notification per recipient and purpose (one `id` at the receiver),
and one port command for a charging cabinet's one-shot thermal-runaway reading.

The engine is the real `firewatch run`, the broker a private Mosquitto, the receivers one real
local HTTP server; the charging cabinets listen on their `set` topic as the hardware does.
`FW_KILL_SEED=<seed>` replays the instants.
"""

from __future__ import annotations

import json
import os
import secrets
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from random import Random
from typing import Any

import paho.mqtt.client as mqtt
import psycopg
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from firewatch.kernel import topics
from tests.alerting.receiver import Receiver, receiver
from tests.reliability.engine_process import EngineProcess
from tests.reliability.test_kill_alerts import rows, wait_for
from tests.support.mosquitto import PrivateMosquitto

pytestmark = pytest.mark.slow

INSTANTS = 20
CALIBRATION = 3  # alarms not killed: how long store and decision take on this machine


def alarms() -> list[tuple[str, str, str, tuple[str, str]]]:
    """(venue, device, kind, station phones): even ones smoke detectors, odd ones chargers;
    the last `CALIBRATION` smoke detectors."""
    out = []
    for i in range(INSTANTS + CALIBRATION):
        kind = "smoke" if i % 2 == 0 or i >= INSTANTS else "charging"
        out.append((f"OS-V{i}", f"OS-{kind[:2].upper()}{i}", kind,
                    (f"+86139100{i:02d}001", f"+86139100{i:02d}002")))  # fmt: skip
    return out


def seed(url: str) -> None:
    with psycopg.connect(url) as conn:
        for i, (venue, device, kind, phones) in enumerate(alarms()):
            conn.execute(
                "INSERT INTO station (station_id, name, kind, phones, lat, lon)"
                " VALUES (%s, %s, 'micro', %s, 31.23, 121.47)",
                (f"MS-OS{i}", f"微型消防站 {i}", list(phones)),
            )
            conn.execute(
                "INSERT INTO venue (venue_id, name, venue_type, category, community, grid,"
                " address, lat, lon, station_id, contacts) VALUES (%s, %s, %s, 1,"
                " 'Xinhua', 'G-03', %s, 31.23, 121.47, %s, %s)",
                (venue, f"场所 {i}", "rental_housing" if kind == "smoke" else "ebike_shed",
                 f"火警路 {i} 号", f"MS-OS{i}", [f"+86137100{i:02d}000"]),
            )  # fmt: skip
            conn.execute(
                "INSERT INTO device (device_id, kind, venue_id, location, heartbeat_s)"
                " VALUES (%s, %s, %s, 'room', 3600)",
                (device, kind, venue),
            )


def one_shot(kind: str) -> dict[str, Any]:
    ts = datetime.now(UTC).isoformat()
    if kind == "smoke":
        return {"ts": ts, "seq": 1, "smoke_obs": 40, "temp_c": 75, "co_ppm": 400, "alarm": True}
    return {"ts": ts, "seq": 1, "port": 2, "state": "charging", "temp_c": 95, "voc_ppm": 400,
            "h2_ppm": 150, "co_ppm": 200, "current_a": 3.5, "voltage_v": 48, "power_w": 168}  # fmt: skip


class Cabinets:
    """Every command published on a charging `set` topic, by device."""

    def __init__(self, port: int) -> None:
        self.commands: Counter[tuple[str, str]] = Counter()  # (device, command id) → copies
        self._lock = threading.Lock()
        self._client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=f"cab-{secrets.token_hex(3)}"
        )
        self._client.on_message = self._on_message
        self._client.connect("127.0.0.1", port)
        self._client.subscribe(topics.command("charging", "+"), qos=1)
        self._client.loop_start()

    def _on_message(self, _c: object, _u: object, msg: mqtt.MQTTMessage) -> None:
        device = msg.topic.split("/")[3]
        with self._lock:
            self.commands[(device, json.loads(msg.payload)["id"])] += 1

    def close(self) -> None:
        self._client.loop_stop()
        self._client.disconnect()


class Devices:
    """The detectors' side of the broker, one connection kept open: `send` returns once the
    broker has acknowledged the alarm (QoS 1), so that kill instants are measured from there."""

    def __init__(self, port: int) -> None:
        self._client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=f"dev-{secrets.token_hex(3)}"
        )
        self._client.connect("127.0.0.1", port)
        self._client.loop_start()

    def send(self, kind: str, device: str) -> None:
        info = self._client.publish(topics.reading(kind, device), json.dumps(one_shot(kind)), qos=1)
        info.wait_for_publish(30)
        assert info.is_published()

    def close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()


def stored(url: str, device: str) -> bool:
    return bool(rows(url, "SELECT 1 FROM reading WHERE device_id = %s", device))


def decided(url: str, venue: str) -> bool:
    return bool(rows(url, "SELECT 1 FROM alert WHERE venue_id = %s", venue))


def calibrate(url: str, devices: Devices) -> tuple[float, float]:
    """Seconds from publishing a one-shot alarm to its row stored (the earliest seen) and to
    its alert decided (the latest seen): the window the kills are drawn from."""
    stores, decisions = [], []
    for venue, device, kind, _ in alarms()[INSTANTS:]:
        began = time.monotonic()
        devices.send(kind, device)
        wait_for(partial(stored, url, device), f"{device} stored", "calibration", 30, poll=0.002)
        stores.append(time.monotonic() - began)
        wait_for(partial(decided, url, venue), f"{venue} decided", "calibration", 30, poll=0.002)
        decisions.append(time.monotonic() - began)
    return min(stores), max(decisions)


def test_one_shot_alarms_reach_their_station_exactly_once_across_kills(
    fresh_db: str, engine_broker: PrivateMosquitto, tmp_path: Path
) -> None:
    seed_no = int(os.environ.get("FW_KILL_SEED", secrets.randbelow(10**6)))
    rnd = Random(seed_no)
    fractions = [rnd.uniform(-0.2, 1.2) for _ in range(INSTANTS)]
    phases: list[str] = []  # what each kill interrupted
    why = f"seed {seed_no} (replay: FW_KILL_SEED={seed_no})"
    seed(fresh_db)
    engine = EngineProcess(fresh_db, engine_broker.url, f"fw-os-{secrets.token_hex(3)}", tmp_path)
    cabinets = Cabinets(engine_broker.port)
    devices = Devices(engine_broker.port)
    r: Receiver
    with receiver() as r:
        engine.env |= {
            "FIREWATCH_SMS_URL": r.url("sms"),
            "FIREWATCH_PUSH_URL": r.url("push"),
            "FIREWATCH_WEBHOOK_URL": r.url("hook"),
            "FIREWATCH_ALERTING__ACK_SECRET": "one-shot-acknowledgement-secret-0123456789",
            # No reminder nor escalation within the test: each purpose is sent once.
            "FIREWATCH_ALERTING__RENOTIFY_S": "3600",
            "FIREWATCH_ALERTING__CHIEF_AFTER_S": "3600",
            "FIREWATCH_ALERTING__OFFICE_AFTER_S": "3600",
            "FIREWATCH_ALERTING__BRIGADE_AFTER_S": "3600",
        }
        try:
            engine.start()
            first, last = calibrate(fresh_db, devices)
            why += f"; publish → stored {first * 1000:.0f} ms, → decided {last * 1000:.0f} ms"
            for (venue, device, kind, _), u in zip(alarms(), fractions, strict=False):
                began = time.monotonic()
                devices.send(kind, device)
                time.sleep(max(0.0, began + first + u * (last - first) - time.monotonic()))
                engine.kill()
                phases.append(
                    "decided" if decided(fresh_db, venue)
                    else "stored, not decided" if stored(fresh_db, device)
                    else "not yet stored"
                )  # fmt: skip
                engine.start()

            def all_reached() -> bool:
                found = rows(fresh_db, "SELECT venue_id FROM alert WHERE confirmed_at IS NOT NULL")
                return len({f["venue_id"] for f in found}) == len(alarms()) and not rows(
                    fresh_db, "SELECT 1 FROM notification WHERE state = 'queued'"
                )

            wait_for(all_reached, "every alarm confirmed and its notices delivered", why, 60)
            wanted = {d for _, d, k, _ in alarms() if k == "charging"}
            wait_for(lambda: {d for d, _ in cabinets.commands} >= wanted,
                     "every cabinet commanded off", why, 30)  # fmt: skip
            time.sleep(1.0)  # anything sent twice would arrive now
        finally:
            engine.stop()
            cabinets.close()
            devices.close()

        why += f"; kills: {Counter(phases)}"
        alerts = rows(fresh_db, "SELECT venue_id, alert_id FROM alert")
        per_venue = Counter(a["venue_id"] for a in alerts)
        assert per_venue == Counter({v: 1 for v, *_ in alarms()}), why
        notices = rows(
            fresh_db,
            "SELECT alert_id, recipient, channel, purpose, count(*) AS n FROM notification"
            " WHERE alert_id IS NOT NULL GROUP BY 1, 2, 3, 4",
        )
        assert notices and all(n["n"] == 1 for n in notices), (why, notices)
        ids = rows(fresh_db, "SELECT notification_id FROM notification WHERE alert_id IS NOT NULL")
        assert r.delivered() >= {i["notification_id"] for i in ids}, why
        assert r.distinct() - {i["notification_id"] for i in ids} == {
            i["notification_id"]
            for i in rows(
                fresh_db, "SELECT notification_id FROM notification WHERE alert_id IS NULL"
            )
        }, why  # nothing reached a receiver that the outbox does not know, under another id
        for venue, _device, _kind, phones in alarms():
            sms = [b for bodies in r.bodies.values() for b in bodies[:1]
                   if json.loads(b)["channel"] == "sms" and set(json.loads(b)["to"]) & set(phones)]  # fmt: skip
            assert sms, f"{venue}'s station was never called ({why})"
        commands = Counter(d for d, _ in cabinets.commands)
        assert commands == Counter(dict.fromkeys(wanted, 1)), (why, cabinets.commands)
        actuations = rows(fresh_db, "SELECT device_id, count(*) AS n FROM actuation GROUP BY 1")
        assert {a["device_id"]: a["n"] for a in actuations} == dict.fromkeys(wanted, 1), why
    # The kills did land between the store and the decision (the window the test is about).
    assert phases.count("stored, not decided") >= 1, why
    print(why)
