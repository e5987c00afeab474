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
from pathlib import Path
from random import Random
from typing import Any

import paho.mqtt.client as mqtt
import psycopg
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from firewatch import topics
from tests.alerting.receiver import Receiver, receiver
from tests.ingest.publish import publish_all
from tests.reliability.engine_process import EngineProcess
from tests.reliability.test_kill_alerts import rows, wait_for
from tests.support.mosquitto import PrivateMosquitto

pytestmark = pytest.mark.slow

INSTANTS = 20
WINDOW_S = 0.35  # kill within this long after the row is stored: store → every watermark


def alarms() -> list[tuple[str, str, str, tuple[str, str]]]:
    """(venue, device, kind, station phones): even ones smoke detectors, odd ones chargers."""
    out = []
    for i in range(INSTANTS):
        kind = "smoke" if i % 2 == 0 else "charging"
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


def stored(url: str, device: str) -> bool:
    return bool(rows(url, "SELECT 1 FROM reading WHERE device_id = %s", device))


def test_one_shot_alarms_reach_their_station_exactly_once_across_kills(
    fresh_db: str, engine_broker: PrivateMosquitto, tmp_path: Path
) -> None:
    seed_no = int(os.environ.get("FW_KILL_SEED", secrets.randbelow(10**6)))
    rnd = Random(seed_no)
    delays = [rnd.uniform(0, WINDOW_S) for _ in range(INSTANTS)]
    why = f"seed {seed_no} (replay: FW_KILL_SEED={seed_no})"
    seed(fresh_db)
    engine = EngineProcess(fresh_db, engine_broker.url, f"fw-os-{secrets.token_hex(3)}", tmp_path)
    cabinets = Cabinets(engine_broker.port)
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
            for (_venue, device, kind, _), delay in zip(alarms(), delays, strict=True):
                publish_all(engine_broker.port, [(topics.reading(kind, device), one_shot(kind))])
                wait_for(lambda d=device: stored(fresh_db, d), f"{device} stored", why, 30,
                         poll=0.005)  # fmt: skip
                time.sleep(delay)
                engine.kill()
                engine.start()

            def all_reached() -> bool:
                found = rows(fresh_db, "SELECT venue_id FROM alert WHERE confirmed_at IS NOT NULL")
                return len({f["venue_id"] for f in found}) == INSTANTS and not rows(
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
