"""A seeded control room: the sample subdistrict's registry through the real importer, three
days of readings by COPY, and the rows of every other stage the panels read (alerts, risk,
cases, listings, scans, events, liveness, rejections), so that every panel has something to show.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from random import Random

import psycopg

from firewatch.kernel.contract import DeviceKind
from firewatch.kernel.registry import Device
from firewatch.registry import import_registry
from firewatch.simulators import registry_files
from firewatch.simulators.subdistrict import Subdistrict, generate

ZONE = "Asia/Shanghai"
DAYS = 3
SPARSE = timedelta(hours=1)  # every reading device, for three days
DENSE = timedelta(minutes=1)  # the focus venue, in the last three hours
DEPARTMENTS = ("police_station", "market_supervision", "law_enforcement", "housing_office")


@dataclass(frozen=True, slots=True)
class Seeded:
    url: str
    now: datetime
    world: Subdistrict
    focus_venue: str
    focus_community: str
    focus_devices: tuple[str, ...]
    readings: int


def _focus(world: Subdistrict) -> str:
    """The venue with the most kinds of reading devices, then the most devices."""

    def score(venue_id: str) -> tuple[int, int, str]:
        devices = [d for d in world.devices_of(venue_id) if d.kind != "elevator"]
        return (len({d.kind for d in devices}), len(devices), venue_id)

    return max((v.venue_id for v in world.venues), key=score)


READING_COLUMNS = (
    "smoke_obs", "temp_c", "co_ppm", "humidity_pct", "alarm", "port", "state", "current_a",
    "voltage_v", "power_w", "occupied", "people", "still_minutes", "lel_pct", "valve",
)  # fmt: skip
LEAK_START = timedelta(hours=2)  # before `now`
LEAK_LENGTH = timedelta(minutes=40)
LEAK_PEAK = 42.0  # % LEL
ALARM_SETPOINT = 20.0  # % LEL: the detector's own alarm
VALVE_CLOSED_AFTER = timedelta(minutes=15)  # from the leak's start: the command answered
"""A gas leak in the focus venue's kitchen: its detector rises through the alarm band to the
peak and back, alarms, and its shut-off valve closes (and stays closed: nobody reopened it)."""


def _with_gas(world: Subdistrict, focus: str) -> Subdistrict:
    """The sample subdistrict fits gas detectors in its small restaurants' kitchens; the focus
    venue (a canteen) gets one too, with a shut-off valve, for the leak."""
    if world.devices_of(focus, DeviceKind.GAS):
        return world
    gas = Device(f"GAS-{focus}-01", DeviceKind.GAS, focus, "后厨灶台旁", 600)
    return replace(world, devices=(*world.devices, gas))


def leak_lel(ts: datetime, now: datetime) -> float | None:
    """The focus kitchen's concentration during the leak (a triangle up to the peak and back);
    None outside the leak."""
    into = ts - (now - LEAK_START)
    if not timedelta(0) <= into < LEAK_LENGTH:
        return None
    half = LEAK_LENGTH / 2
    return LEAK_PEAK * (1 - abs(into - half) / half)


def _gas(rng: Random, device_id: str, focus: str, ts: datetime, now: datetime) -> dict[str, object]:
    valved = device_id.startswith(f"GAS-{focus}-")
    leak = leak_lel(ts, now) if valved else None
    lel = rng.uniform(0, 3) if leak is None else leak
    valve = None
    if valved:
        valve = "closed" if ts >= now - LEAK_START + VALVE_CLOSED_AFTER else "open"
    return {"lel_pct": lel, "alarm": lel >= ALARM_SETPOINT, "valve": valve}


def _reading_row(
    rng: Random, device_id: str, kind: str, focus: str, ts: datetime, now: datetime
) -> dict[str, object]:
    """Some of READING_COLUMNS, by name (the others are NULL)."""
    if kind == "smoke":
        return {"smoke_obs": rng.uniform(0, 0.08), "temp_c": rng.uniform(18, 26),
                "co_ppm": rng.uniform(0, 4), "humidity_pct": rng.uniform(40, 70),
                "alarm": False}  # fmt: skip
    if kind == "charging":
        power = rng.choice((0.0, 0.0, rng.uniform(150, 400)))
        return {"temp_c": rng.uniform(20, 38), "port": 1,
                "state": "charging" if power else "idle", "current_a": power / 48,
                "voltage_v": 48.0, "power_w": power}  # fmt: skip
    if kind == "gas":
        return _gas(rng, device_id, focus, ts, now)
    night = ts.hour >= 14  # 22:00-08:00 in Shanghai
    people = rng.randint(0, 2) if night else 0
    return {"occupied": people > 0, "people": people,
            "still_minutes": rng.randint(0, 240) if people else 0}  # fmt: skip


def _readings(conn: psycopg.Connection, world: Subdistrict, focus: str, now: datetime) -> int:
    rng = Random(7)
    columns = ", ".join(("ts", "received_at", "device_id", "kind", "venue_id", "seq",
                         *READING_COLUMNS))  # fmt: skip
    count = 0
    with conn.cursor() as cur, cur.copy(f"COPY reading ({columns}) FROM STDIN") as copy:
        for device in world.devices:
            if device.kind == "elevator":
                continue
            dense_from = now - timedelta(hours=3) if device.venue_id == focus else now
            ts, seq = now - timedelta(days=DAYS), 0
            while ts < now:
                received = ts + timedelta(milliseconds=rng.randint(80, 900))
                row = _reading_row(rng, device.device_id, device.kind, focus, ts, now)
                copy.write_row((ts, received, device.device_id, device.kind, device.venue_id,
                                seq, *(row.get(c) for c in READING_COLUMNS)))  # fmt: skip
                seq, count = seq + 1, count + 1
                ts += DENSE if ts >= dense_from else SPARSE
    return count


def _liveness_and_events(
    conn: psycopg.Connection, world: Subdistrict, focus: str, now: datetime
) -> None:
    rng = Random(11)
    with conn.cursor() as cur:
        for n, device in enumerate(world.devices):
            if n % 97 == 0:
                continue  # never seen
            offline = n % 23 == 0
            cur.execute(
                "INSERT INTO device_liveness (device_id, last_seen_at, last_device_ts, online,"
                " offline_since, offline_reason, battery_pct, rssi_dbm, fw, status_at)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, 'v1.4.2', %s)",
                (device.device_id, now - timedelta(hours=5 if offline else 0, minutes=1),
                 now - timedelta(hours=5 if offline else 0, minutes=1), not offline,
                 now - timedelta(hours=4) if offline else None,
                 "heartbeat_missed" if offline else None,
                 rng.choice((8.0, 15.0)) if n % 31 == 0 else rng.uniform(40, 100),
                 rng.uniform(-100, -60), now - timedelta(minutes=10)),
            )  # fmt: skip
    events = {
        "smoke": ("tamper", "fault", "low_battery", "test", "alarm"),
        "charging": ("overcurrent", "overtemp", "charge_started", "charge_completed"),
        "elevator": ("ebike_detected",),
        "occupancy": (),  # the contract gives presence sensors no events
        "gas": ("fault", "low_battery", "alarm", "alarm_cleared"),
    }
    with (
        conn.cursor() as cur,
        cur.copy(
            "COPY device_event (ts, received_at, device_id, kind, venue_id, seq, event, lel_pct,"
            " command_id) FROM STDIN"
        ) as copy,
    ):
        for n, device in enumerate(world.devices[::5]):
            ts = now - timedelta(minutes=rng.randint(5, DAYS * 1440 - 5))
            names = events[device.kind]
            if not names:
                continue
            event = names[n % len(names)]
            lel = rng.uniform(20, 30) if device.kind == "gas" and event == "alarm" else None
            copy.write_row((ts, ts, device.device_id, device.kind, device.venue_id, n, event,
                            lel, None))  # fmt: skip
        # the leak at the focus venue: the detector's alarm, the valve closing on command,
        # the concentration back under the alarm setpoint
        leak_start = now - LEAK_START
        for device in world.devices_of(focus, DeviceKind.GAS):
            for seq, (after, event, lel, command_id) in enumerate((
                (timedelta(minutes=10), "alarm", leak_lel(leak_start + timedelta(minutes=10), now),
                 None),
                (VALVE_CLOSED_AFTER, "valve_closed", None, f"CMD-{device.device_id}"),
                (timedelta(minutes=31), "alarm_cleared", None, None),
            ), start=100_000):  # fmt: skip
                copy.write_row((leak_start + after, leak_start + after, device.device_id,
                                device.kind, device.venue_id, seq, event, lel, command_id))  # fmt: skip


def _rejected(conn: psycopg.Connection, now: datetime) -> None:
    reasons = ("unknown_device", "bad_json", "invalid_field", "clock_skew", "device_mismatch")
    with (
        conn.cursor() as cur,
        cur.copy(
            "COPY rejected_message (received_at, topic, payload, reason, detail) FROM STDIN"
        ) as copy,
    ):
        for n in range(300):
            at = now - timedelta(minutes=n * 7)
            copy.write_row((at, f"fw/v1/smoke/X{n}/reading", b'{"seq": 1}', reasons[n % 5], "x"))


def _risk(conn: psycopg.Connection, world: Subdistrict, focus: str, now: datetime) -> None:
    rng = Random(13)
    communities = sorted({v.community for v in world.venues})
    with (
        conn.cursor() as cur,
        cur.copy(
            "COPY risk_score (at, scope, subject_id, venue_id, community, score, level, basis,"
            " reasons) FROM STDIN"
        ) as copy,
    ):
        for step in range(DAYS * 24 * 4):
            at = now - timedelta(minutes=15 * step)
            for community in communities:
                score = rng.randint(5, 60)
                copy.write_row((at, "community", community, None, community, score,
                                _level(score), "fusion", "[]"))  # fmt: skip
            if step % 4 == 0:
                for venue in world.venues:
                    score = rng.randint(0, 95) if venue.venue_id == focus else rng.randint(0, 40)
                    copy.write_row((at, "venue", venue.venue_id, venue.venue_id, venue.community,
                                    score, _level(score), "fusion", "[]"))  # fmt: skip


def _level(score: int) -> str:
    return (
        "red" if score >= 90 else "orange" if score >= 75 else "yellow" if score >= 50 else "blue"
    )


def _alerts(conn: psycopg.Connection, world: Subdistrict, focus: str, now: datetime) -> None:
    venues = [focus] + [v.venue_id for v in world.venues[::17] if v.venue_id != focus]
    states = ("pending", "confirmed", "acknowledged", "resolved", "resolved")
    levels = ("red", "orange", "yellow", "blue")
    with conn.cursor() as cur:
        for n, venue_id in enumerate(venues):
            state = states[n % len(states)]
            opened = now - timedelta(minutes=30 + n * 47)
            confirmed = opened + timedelta(seconds=40) if state != "pending" else None
            acked = confirmed + timedelta(minutes=2) if state in ("acknowledged", "resolved") \
                and confirmed else None  # fmt: skip
            resolved = opened + timedelta(minutes=25) if state == "resolved" else None
            cur.execute(
                "INSERT INTO alert (alert_id, venue_id, kind, level, state, policy, opened_at,"
                " confirmed_at, acked_at, acked_by, resolved_at, resolution, summary,"
                " last_signal_at) VALUES (%s, %s, %s, %s, %s, 'persistence', %s, %s, %s, %s,"
                " %s, %s, %s, %s)",
                (f"AL-{n:04d}", venue_id, "fire" if n % 3 else "trouble", levels[n % 4], state,
                 opened, confirmed, acked, "ms01-duty" if acked else None, resolved,
                 "cleared" if resolved else None, f"smoke at {venue_id}", opened),
            )  # fmt: skip


def _cases(conn: psycopg.Connection, world: Subdistrict, focus: str, now: datetime) -> None:
    stages = ("reported", "registered", "dispatched", "handling", "verifying", "closed",
              "closed", "cancelled", "discovered")  # fmt: skip
    hazards = ("evacuation_blocked", "indoor_ebike_charging", "wiring_unsafe", "lodging")
    venues = [focus] + [v for v in (v.venue_id for v in world.venues[::4]) if v != focus]
    by_id = {v.venue_id: v for v in world.venues}
    with conn.cursor() as cur:
        for n, venue_id in enumerate(venues):
            venue, stage = by_id[venue_id], stages[n % len(stages)]
            opened = now - timedelta(hours=6 + n * 5)
            due = opened + timedelta(days=(1, 3, 7)[n % 3])
            closed = min(opened + timedelta(hours=20 + n % 40), now) \
                if stage in ("closed", "cancelled") else None  # fmt: skip
            case_id = f"HC-{n:05d}"
            supervision = ("none", "street_proposed", "street", "district")[n % 4] \
                if stage != "closed" else "none"  # fmt: skip
            cur.execute(
                "INSERT INTO hazard_case (case_id, kind, venue_id, community, grid, station_id,"
                " hazard, source, stage, opened_at, due_at, closed_at, supervision,"
                " last_found_at, version) VALUES (%s, 'hazard', %s, %s, %s, %s, %s, 'scan', %s,"
                " %s, %s, %s, %s, %s, 1)",
                (case_id, venue_id, venue.community, venue.grid, venue.station_id,
                 hazards[n % len(hazards)], stage, opened, due, closed, supervision, opened),
            )  # fmt: skip
            if stage in ("dispatched", "handling", "verifying", "closed"):
                part_state = {"dispatched": "assigned", "handling": "accepted"}.get(stage, "done")
                cur.execute(
                    "INSERT INTO case_part (case_id, department, state, assigned_at, done_at)"
                    " VALUES (%s, %s, %s, %s, %s)",
                    (case_id, DEPARTMENTS[n % len(DEPARTMENTS)], part_state, opened,
                     opened + timedelta(hours=12) if part_state == "done" else None),
                )  # fmt: skip
            if supervision != "none":
                cur.execute(
                    "INSERT INTO case_listing (case_id, level, state, reason, proposed_at)"
                    " VALUES (%s, %s, %s, 'recurring', %s)",
                    (case_id, "district" if supervision == "district" else "street",
                     "proposed" if supervision == "street_proposed" else "listed", opened),
                )  # fmt: skip


def _scans(conn: psycopg.Connection, world: Subdistrict, now: datetime) -> None:
    items = json.dumps([{"item": "evacuation_clear", "ok": True}])
    with (
        conn.cursor() as cur,
        cur.copy(
            "COPY venue_scan (ts, received_at, venue_id, seq, scan_type, inspector, items)"
            " FROM STDIN"
        ) as copy,
    ):
        for n, venue in enumerate(world.venues):
            ago = (timedelta(hours=n % 60), timedelta(days=40), timedelta(days=400))[n % 3]
            copy.write_row((now - ago, now - ago, venue.venue_id, 1, "inspection", "INSP-1", items))
            copy.write_row((now - timedelta(hours=n % 50), now, venue.venue_id, 2, "self_check",
                            venue.venue_id, items))  # fmt: skip


def _positions(conn: psycopg.Connection, now: datetime) -> None:
    """Two partitions' hand-off: one evaluated everywhere, one whose alerting stage is behind."""
    for pos in range(1, 11):
        partition = "p1of2" if pos % 2 else "p2of2"
        conn.execute(
            "INSERT INTO ingest_batch (pos, partition, committed_at, records) VALUES (%s, %s, %s, 5)",
            (pos, partition, now - timedelta(seconds=60 - pos * 5)),
        )
    for stage in ("rules", "cases", "alerting"):
        for partition in ("p1of2", "p2of2"):
            behind = stage == "alerting" and partition == "p2of2"
            conn.execute(
                "INSERT INTO stage_watermark (stage, partition, pos, updated_at)"
                " VALUES (%s, %s, %s, %s)",
                (stage, partition, 4 if behind else 10, now),
            )


def seed(url: str, now: datetime) -> Seeded:
    """Everything, in one go; `now` is the end of the seeded history."""
    world = generate(1)
    focus = _focus(world)
    world = _with_gas(world, focus)
    with tempfile.TemporaryDirectory(prefix="fw-dash-registry-") as tmp:
        paths = registry_files.write(world, Path(tmp))
        with psycopg.connect(url) as conn:
            import_registry([paths[0]], conn)
    with psycopg.connect(url) as conn:
        readings = _readings(conn, world, focus, now)
        _liveness_and_events(conn, world, focus, now)
        _rejected(conn, now)
        _risk(conn, world, focus, now)
        _alerts(conn, world, focus, now)
        _cases(conn, world, focus, now)
        _scans(conn, world, now)
        _positions(conn, now)
        conn.execute("ANALYZE")
    venue = world.venue(focus)
    devices = tuple(d.device_id for d in world.devices_of(focus))
    return Seeded(url, now, world, focus, venue.community, devices, readings)


def copy_gas_readings(conn: psycopg.Connection, rows: list[tuple[object, ...]]) -> None:
    """COPY gas readings: (ts, received_at, device_id, kind, venue_id, seq, lel_pct, alarm,
    valve) each."""
    with (
        conn.cursor() as cur,
        cur.copy(
            "COPY reading (ts, received_at, device_id, kind, venue_id, seq, lel_pct, alarm, valve)"
            " FROM STDIN"
        ) as copy,
    ):
        for row in rows:
            copy.write_row(row)
