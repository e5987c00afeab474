"""Stored history as the live stream: records read back from the ingest tables in the order the
engine evaluates them (received_at, device time, device, seq), in batches, with the devices that
fell silent found the way ingest finds them (nothing for 3 heartbeats after the last message).

Values come back exactly as decoded: PostgreSQL prints a `real` with the shortest digits that
round-trip, which is what the device sent.
"""

from __future__ import annotations

import heapq
import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any, Final

import psycopg

from ingest.liveness import OfflineReason, WentOffline
from ingest.records import (
    Availability,
    Decoded,
    DeviceEvent,
    DeviceStatus,
    Reading,
    ScanItem,
    VenueScan,
)
from ingest.stream import Batch
from kernel.contract import OFFLINE_AFTER_HEARTBEATS, DeviceKind

_ORDER: Final = 'ORDER BY received_at, ts, device_id COLLATE "C", seq'
_READINGS: Final = f"""
SELECT ts, received_at, device_id, kind, venue_id, seq, smoke_obs, temp_c, co_ppm, humidity_pct,
       alarm, port, state, current_a, voltage_v, power_w, energy_wh, h2_ppm, voc_ppm, occupied,
       people, still_minutes
FROM reading WHERE ts >= %s AND ts < %s {_ORDER}
"""
_EVENTS: Final = f"""
SELECT ts, received_at, device_id, kind, venue_id, seq, event, port, car, floor, confidence,
       blocked, command_id
FROM device_event WHERE ts >= %s AND ts < %s {_ORDER}
"""
_STATUS: Final = f"""
SELECT ts, received_at, device_id, kind, venue_id, seq, battery_pct, rssi_dbm, fw
FROM device_status WHERE ts >= %s AND ts < %s {_ORDER}
"""
_SCANS: Final = """
SELECT ts, received_at, venue_id, seq, scan_type, inspector, items, case_id
FROM venue_scan WHERE ts >= %s AND ts < %s
ORDER BY received_at, ts, venue_id COLLATE "C", seq
"""
_AVAILABILITY: Final = """
SELECT a.received_at, a.device_id, d.kind, d.venue_id, a.online
FROM device_availability a JOIN device d USING (device_id)
WHERE a.received_at >= %s AND a.received_at < %s
ORDER BY a.received_at, a.device_id COLLATE "C"
"""
_VENUES: Final = "SELECT venue_id, community, grid, station_id FROM venue"

Enrich = dict[str, tuple[str, str, str]]


def _key(record: Decoded) -> tuple[datetime, datetime, str, int]:
    if isinstance(record, Availability):
        return record.received_at, record.received_at, record.device_id, -1
    subject = record.venue_id if isinstance(record, VenueScan) else record.device_id
    return record.received_at, record.ts, subject, record.seq


def _rows(conn: psycopg.Connection, query: str, start: datetime, end: datetime) -> Iterator[Any]:
    with conn.cursor(name=f"replay_{abs(hash(query)) % 10**8}") as cur:
        cur.itersize = 5000
        cur.execute(query, (start, end))
        yield from cur


def _enrich(venues: Enrich, venue_id: str) -> tuple[str, str, str]:
    return venues.get(venue_id, ("", "", ""))


def _readings(
    conn: psycopg.Connection, venues: Enrich, s: datetime, e: datetime
) -> Iterator[Decoded]:
    for row in _rows(conn, _READINGS, s, e):
        ts, received, device, kind, venue, seq, *m = row
        yield Reading(ts, received, device, DeviceKind(kind), venue, *_enrich(venues, venue), seq,
                      *m)  # fmt: skip


def _events(
    conn: psycopg.Connection, venues: Enrich, s: datetime, e: datetime
) -> Iterator[Decoded]:
    for ts, received, device, kind, venue, seq, event, *m in _rows(conn, _EVENTS, s, e):
        yield DeviceEvent(ts, received, device, DeviceKind(kind), venue, *_enrich(venues, venue),
                          seq, event, *m)  # fmt: skip


def _status(
    conn: psycopg.Connection, venues: Enrich, s: datetime, e: datetime
) -> Iterator[Decoded]:
    for ts, received, device, kind, venue, seq, *m in _rows(conn, _STATUS, s, e):
        yield DeviceStatus(ts, received, device, DeviceKind(kind), venue,
                           *_enrich(venues, venue), seq, *m)  # fmt: skip


def _scans(conn: psycopg.Connection, venues: Enrich, s: datetime, e: datetime) -> Iterator[Decoded]:
    for ts, received, venue, seq, scan_type, inspector, items, case_id in _rows(conn, _SCANS, s, e):
        listed = items if isinstance(items, list) else json.loads(items)
        checklist = tuple(ScanItem(i["item"], bool(i["ok"]), i.get("note")) for i in listed)
        yield VenueScan(ts, received, venue, *_enrich(venues, venue), seq, scan_type, inspector,
                        checklist, case_id)  # fmt: skip


def _availability(
    conn: psycopg.Connection, venues: Enrich, s: datetime, e: datetime
) -> Iterator[Decoded]:
    for received, device, kind, venue, online in _rows(conn, _AVAILABILITY, s, e):
        yield Availability(received, device, DeviceKind(kind), venue, *_enrich(venues, venue),
                           online)  # fmt: skip


def stored_records(conn: psycopg.Connection, start: datetime, end: datetime) -> Iterator[Decoded]:
    """Every stored record with device time (availability: receipt) in [start, end), in the
    engine's evaluation order. `conn` must not be in autocommit mode (server-side cursors)."""
    venues: Enrich = {v: (c, g, st) for v, c, g, st in conn.execute(_VENUES)}
    streams = [
        source(conn, venues, start, end)
        for source in (_readings, _events, _status, _scans, _availability)
    ]
    yield from heapq.merge(*streams, key=_key)


class ReplayLiveness:
    """Ingest's silence rule over a replay: a device heard from and then silent for 3 of its
    heartbeats is offline from last heard + 3 heartbeats, reported once (until heard again)."""

    def __init__(self, heartbeats: dict[str, int]) -> None:
        self._heartbeats = heartbeats
        self._deadlines: list[tuple[datetime, str, str, str]] = []
        self._last: dict[str, datetime] = {}

    def heard(self, record: Decoded) -> None:
        if isinstance(record, VenueScan):
            return
        device = record.device_id
        if isinstance(record, Availability) and not record.online:
            self._last.pop(device, None)  # its Last Will: offline already, not silent
            return
        beat = self._heartbeats.get(device)
        if beat is None:
            return
        self._last[device] = seen = max(
            record.received_at, self._last.get(device, record.received_at)
        )
        deadline = seen + timedelta(seconds=OFFLINE_AFTER_HEARTBEATS * beat)
        heapq.heappush(self._deadlines, (deadline, device, record.kind.value, record.venue_id))

    def sweep(self, now: datetime) -> tuple[WentOffline, ...]:
        gone = []
        while self._deadlines and self._deadlines[0][0] < now:
            deadline, device, kind, venue = heapq.heappop(self._deadlines)
            last = self._last.get(device)
            beat = self._heartbeats[device]
            if (
                last is not None
                and last + timedelta(seconds=OFFLINE_AFTER_HEARTBEATS * beat) == deadline
            ):
                del self._last[device]
                gone.append(WentOffline(device, kind, venue, deadline, OfflineReason.SILENT))
        return tuple(gone)


def batches(
    records: Iterator[Decoded], liveness: ReplayLiveness | None, size: int = 2000
) -> Iterator[Batch]:
    """Records in batches of `size`; each batch committed at its last record's receipt."""
    chunk: list[Decoded] = []
    for record in records:
        chunk.append(record)
        if liveness is not None:
            liveness.heard(record)
        if len(chunk) >= size:
            yield _batch(chunk, liveness)
            chunk = []
    if chunk:
        yield _batch(chunk, liveness)


def _batch(chunk: list[Decoded], liveness: ReplayLiveness | None) -> Batch:
    now = chunk[-1].received_at
    offline = liveness.sweep(now) if liveness is not None else ()
    return Batch(tuple(chunk), offline, now)
