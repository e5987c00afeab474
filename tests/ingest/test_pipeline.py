"""Ingest end to end: real Mosquitto (engine configuration), real PostgreSQL, the real pipeline."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest

from firewatch.ingest.records import DeviceEvent, Reading, VenueScan
from firewatch.kernel import topics
from tests.ingest.conftest import RunningPipeline
from tests.ingest.publish import publish_all


def now_ms() -> int:
    return int(datetime.now(UTC).timestamp() * 1000)


def wait_for(check: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def count(url: str, query: str, *args: Any) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute(query, args).fetchone()
    assert row is not None
    return int(row[0])


def test_every_kind_of_message_is_stored_with_its_fields(
    running_pipeline: RunningPipeline, registry_db: str, engine_broker: Any
) -> None:
    ts = now_ms()
    messages: list[tuple[str, Any]] = [
        (topics.reading("smoke", "SMK-1"), {"ts": ts, "seq": 1, "smoke_obs": 2.5, "temp_c": 31.5,
          "co_ppm": 12, "humidity_pct": 40, "alarm": True, "fw_extra": "x"}),
        (topics.reading("charging", "CHG-1"), {"ts": ts, "seq": 1, "port": 3, "state": "charging",
          "current_a": 2.1, "voltage_v": 48.2, "power_w": 101.2, "temp_c": 35.0, "h2_ppm": 0.5}),
        (topics.reading("occupancy", "OCC-1"), {"ts": ts, "seq": 1, "occupied": True, "people": 1,
          "still_minutes": 45}),
        (topics.event("smoke", "SMK-1"), {"ts": ts, "seq": 2, "event": "alarm"}),
        (topics.event("elevator", "LIFT-1"), {"ts": ts, "seq": 1, "event": "ebike_detected",
          "car": "A", "floor": 1, "confidence": 0.93, "blocked": True}),
        (topics.event("charging", "CHG-1"), {"ts": ts, "seq": 2, "event": "power_off", "port": 3,
          "id": "cmd-1"}),
        (topics.status("smoke", "SMK-2"), {"ts": ts, "seq": 1, "battery_pct": 87, "rssi_dbm": -71,
          "fw": "2.1.0"}),
        (topics.availability("smoke", "SMK-2"), b"offline"),
        (topics.scan("V-SHOP"), {"ts": ts, "seq": 1, "scan_type": "inspection", "inspector": "GI-7",
          "items": [{"item": "exits_unlocked", "ok": False, "note": "chained"},
                    {"item": "gas_safe", "ok": True}]}),
    ]  # fmt: skip
    publish_all(engine_broker.port, messages)
    url = registry_db
    wait_for(lambda: count(url, "SELECT count(*) FROM venue_scan") == 1)
    with psycopg.connect(url) as conn:
        smoke = conn.execute(
            "SELECT smoke_obs, temp_c, co_ppm, humidity_pct, alarm, venue_id, extra->>'fw_extra'"
            " FROM reading WHERE device_id = 'SMK-1'"
        ).fetchone()
        charging = conn.execute(
            "SELECT port, state, current_a, voltage_v, power_w, temp_c, h2_ppm FROM reading"
            " WHERE device_id = 'CHG-1'"
        ).fetchone()
        occupancy = conn.execute(
            "SELECT occupied, people, still_minutes FROM reading WHERE device_id = 'OCC-1'"
        ).fetchone()
        events = conn.execute(
            "SELECT device_id, event, car, floor, blocked, port, command_id FROM device_event"
            " ORDER BY device_id"
        ).fetchall()
        liveness = conn.execute(
            "SELECT online, offline_reason, battery_pct, fw FROM device_liveness"
            " WHERE device_id = 'SMK-2'"
        ).fetchone()
        scan = conn.execute("SELECT scan_type, inspector, items FROM venue_scan").fetchone()
        received = conn.execute(
            "SELECT ts, received_at FROM reading WHERE device_id = 'SMK-1'"
        ).fetchone()
    assert smoke == (2.5, 31.5, 12.0, 40.0, True, "V-HOME", "x")
    assert charging == (3, "charging", pytest.approx(2.1), pytest.approx(48.2),
                        pytest.approx(101.2), 35.0, 0.5)  # fmt: skip
    assert occupancy == (True, 1, 45)
    assert events == [
        ("CHG-1", "power_off", None, None, None, 3, "cmd-1"),
        ("LIFT-1", "ebike_detected", "A", 1, True, None, None),
        ("SMK-1", "alarm", None, None, None, None, None),
    ]
    # The status came first, then the Last Will: offline, with the battery level kept.
    assert liveness == (False, "last_will", 87.0, "2.1.0")
    assert scan is not None and scan[0:2] == ("inspection", "GI-7")
    assert scan[2][0] == {"item": "exits_unlocked", "ok": False, "note": "chained"}
    assert received is not None and received[0] == datetime.fromtimestamp(ts / 1000, UTC)
    assert received[1] >= received[0]
    kinds = {type(r) for r in running_pipeline.collector.records}
    assert {Reading, DeviceEvent, VenueScan} <= kinds


BAD: list[tuple[str, bytes, str]] = [
    # an unknown kind
    ("fw/v1/sprinkler/SP-1/reading", b'{"ts":0,"seq":1}', "unknown_kind"),
    # a device missing from the registry
    ("fw/v1/smoke/GHOST-1/reading", b'{"ts":0,"seq":1,"smoke_obs":0.1,"alarm":false}', "unknown_device"),
    # a registered smoke detector publishing as a charging port
    ("fw/v1/charging/SMK-1/reading", b'{"ts":0,"seq":1,"port":0,"state":"idle","current_a":0,"voltage_v":0,"power_w":0}', "kind_mismatch"),
    # an obscuration no detector can measure
    ("fw/v1/smoke/SMK-1/reading", b'{"ts":0,"seq":9,"smoke_obs":500,"alarm":false}', "out_of_range"),
    # not JSON at all
    ("fw/v1/smoke/SMK-1/reading", b"\xff\xfe garbage", "invalid_utf8"),
    # NaN is not a number the contract knows
    ("fw/v1/smoke/SMK-1/reading", b'{"ts":0,"seq":10,"smoke_obs":NaN,"alarm":false}', "non_finite_number"),
    # an event the contract does not list
    ("fw/v1/smoke/SMK-1/event", b'{"ts":0,"seq":11,"event":"explode"}', "unknown_event"),
    # more than 4 KiB
    ("fw/v1/smoke/SMK-1/reading", b'{"pad":"' + b"x" * 5000 + b'"}', "payload_too_large"),
]  # fmt: skip


def test_bad_messages_are_kept_with_their_reason_and_good_ones_around_them_stored(
    running_pipeline: RunningPipeline, registry_db: str, engine_broker: Any
) -> None:
    ts = now_ms()
    messages: list[tuple[str, bytes]] = []
    for i, (topic, payload, _reason) in enumerate(BAD):
        good = f'{{"ts":{ts},"seq":{100 + i},"smoke_obs":0.1,"alarm":false}}'.encode()
        messages.append((topics.reading("smoke", "SMK-2"), good))
        messages.append((topic, payload.replace(b'"ts":0', f'"ts":{ts}'.encode())))
    publish_all(engine_broker.port, messages)
    url = registry_db
    wait_for(lambda: count(url, "SELECT count(*) FROM rejected_message") == len(BAD))
    wait_for(
        lambda: count(url, "SELECT count(*) FROM reading WHERE device_id = 'SMK-2'") == len(BAD)
    )
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT topic, payload, reason, detail FROM rejected_message"
        ).fetchall()
    got = {(topic, bytes(payload)): (reason, detail) for topic, payload, reason, detail in rows}
    for topic, payload, reason in BAD:
        sent = payload.replace(b'"ts":0', f'"ts":{ts}'.encode())
        assert got[(topic, sent)][0] == reason, (topic, got[(topic, sent)])
        assert got[(topic, sent)][1], "every rejection carries a readable detail"


def test_a_redelivered_message_is_stored_once_and_a_reboot_is_not_a_duplicate(
    running_pipeline: RunningPipeline, registry_db: str, engine_broker: Any
) -> None:
    ts = now_ms()
    first = {"ts": ts, "seq": 0, "smoke_obs": 0.2, "alarm": False}
    after_reboot = {"ts": ts + 5000, "seq": 0, "smoke_obs": 0.3, "alarm": False}
    topic = topics.reading("smoke", "SMK-1")
    publish_all(engine_broker.port, [(topic, first), (topic, first), (topic, after_reboot)])
    url = registry_db
    wait_for(lambda: count(url, "SELECT count(*) FROM reading WHERE smoke_obs > 0.25") == 1)
    time.sleep(0.3)
    assert count(url, "SELECT count(*) FROM reading WHERE device_id = 'SMK-1'") == 2
    handed_on = [r for r in running_pipeline.collector.records if isinstance(r, Reading)]
    assert len(handed_on) == 2, "the detection stages see a redelivery once"


def test_a_silent_device_goes_offline_once(
    running_pipeline: RunningPipeline, registry_db: str
) -> None:
    # Registered an hour ago with a 60 s heartbeat and never heard from: offline.
    with psycopg.connect(registry_db) as conn:
        conn.execute("UPDATE device SET updated_at = now() - interval '1 hour'")
    wait_for(
        lambda: count(registry_db, "SELECT count(*) FROM device_liveness WHERE NOT online") == 5
    )
    offline = [o for b in running_pipeline.collector.batches for o in b.offline]
    time.sleep(1.2)  # two more sweeps must not report them again
    again = [o for b in running_pipeline.collector.batches for o in b.offline]
    assert {o.device_id for o in offline} == {"SMK-1", "SMK-2", "CHG-1", "LIFT-1", "OCC-1"}
    assert len(again) == len(offline) == 5
    assert {o.reason.value for o in offline} == {"never_seen"}


def test_a_message_the_store_refuses_is_kept_and_does_not_block_its_batch(
    running_pipeline: RunningPipeline, registry_db: str, engine_broker: Any
) -> None:
    # A constraint the decoder knows nothing of stands in for any refusal by PostgreSQL.
    with psycopg.connect(registry_db) as conn:
        conn.execute("ALTER TABLE reading ADD CONSTRAINT no_42 CHECK (smoke_obs <> 42)")
    ts = now_ms()
    topic = topics.reading("smoke", "SMK-1")
    batch = [(topic, {"ts": ts, "seq": i, "smoke_obs": 42 if i == 3 else 0.1, "alarm": False})
             for i in range(6)]  # fmt: skip
    publish_all(engine_broker.port, batch)
    wait_for(lambda: count(registry_db, "SELECT count(*) FROM rejected_message") == 1)
    wait_for(lambda: count(registry_db, "SELECT count(*) FROM reading") == 5)
    with psycopg.connect(registry_db) as conn:
        row = conn.execute("SELECT reason, detail, payload FROM rejected_message").fetchone()
    assert row is not None
    assert row[0] == "store_refused"
    assert "no_42" in row[1]
    assert b'"smoke_obs": 42' in bytes(row[2])


def test_a_device_added_to_the_registry_is_taken_without_a_restart(
    running_pipeline: RunningPipeline, registry_db: str, engine_broker: Any
) -> None:
    with psycopg.connect(registry_db) as conn:
        conn.execute(
            "INSERT INTO device (device_id, kind, venue_id, location, heartbeat_s)"
            " VALUES ('SMK-NEW', 'smoke', 'V-HOME', 'kitchen', 60)"
        )
    time.sleep(0.8)  # the pipeline looks at the registry every 0.5 s in these tests
    reading = {"ts": now_ms(), "seq": 0, "smoke_obs": 0.1, "alarm": False}
    publish_all(engine_broker.port, [(topics.reading("smoke", "SMK-NEW"), reading)])
    wait_for(
        lambda: count(registry_db, "SELECT count(*) FROM reading WHERE device_id = 'SMK-NEW'") == 1
    )
    assert count(registry_db, "SELECT count(*) FROM rejected_message") == 0
