"""Stored history as the live stream: records read back from the ingest tables in the order the
engine evaluates them (received_at, device time, device, seq), in batches, with the devices that
fell silent found the way ingest finds them (nothing for 3 heartbeats after the last message).

Values come back exactly as decoded: PostgreSQL prints a `real` with the shortest digits that
round-trip, which is what the device sent.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any, Final

import psycopg
from psycopg.rows import dict_row, tuple_row

from firewatch.ingest.liveness import OfflineReason, WentOffline
from firewatch.ingest.readback import (
    Venues,
    availability_record,
    device_record,
    load_venues,
    scan_record,
)
from firewatch.ingest.records import (
    Availability,
    Decoded,
    DeviceEvent,
    DeviceStatus,
    Reading,
    VenueScan,
)
from firewatch.ingest.store import EVENT_COLUMNS, READING_COLUMNS, SCAN_COLUMNS, STATUS_COLUMNS
from firewatch.ingest.stream import Batch
from firewatch.kernel.contract import OFFLINE_AFTER_HEARTBEATS

_ORDER: Final = 'ORDER BY received_at, ts, device_id COLLATE "C", seq'
_RANGE: Final = f"WHERE ts >= %s AND ts < %s {_ORDER}"
_READINGS: Final = f"SELECT {', '.join(READING_COLUMNS)} FROM reading {_RANGE}"
_EVENTS: Final = f"SELECT {', '.join(EVENT_COLUMNS)} FROM device_event {_RANGE}"
_STATUS: Final = f"SELECT {', '.join(STATUS_COLUMNS)} FROM device_status {_RANGE}"
_SCANS: Final = f"""
SELECT {", ".join(SCAN_COLUMNS)} FROM venue_scan WHERE ts >= %s AND ts < %s
ORDER BY received_at, ts, venue_id COLLATE "C", seq
"""
_AVAILABILITY: Final = """
SELECT a.received_at, a.device_id, a.online, d.kind, d.venue_id
FROM device_availability a JOIN device d USING (device_id)
WHERE a.received_at >= %s AND a.received_at < %s
ORDER BY a.received_at, a.device_id COLLATE "C"
"""


def _key(record: Decoded) -> tuple[datetime, datetime, str, int]:
    if isinstance(record, Availability):
        return record.received_at, record.received_at, record.device_id, -1
    subject = record.venue_id if isinstance(record, VenueScan) else record.device_id
    return record.received_at, record.ts, subject, record.seq


def _rows(
    conn: psycopg.Connection, query: str, start: datetime, end: datetime, *, named: bool = False
) -> Iterator[Any]:
    with conn.cursor(
        name=f"replay_{abs(hash(query)) % 10**8}", row_factory=dict_row if named else tuple_row
    ) as cur:
        cur.itersize = 5000
        cur.execute(query, (start, end))
        yield from cur


def _devices(query: str, make: Any) -> Source:
    def read(
        conn: psycopg.Connection, venues: Venues, s: datetime, e: datetime
    ) -> Iterator[Decoded]:
        for row in _rows(conn, query, s, e):
            yield device_record(make, row, venues)

    return read


def _scans(conn: psycopg.Connection, venues: Venues, s: datetime, e: datetime) -> Iterator[Decoded]:
    for row in _rows(conn, _SCANS, s, e, named=True):
        yield scan_record(row, venues)


def _availability(
    conn: psycopg.Connection, venues: Venues, s: datetime, e: datetime
) -> Iterator[Decoded]:
    for row in _rows(conn, _AVAILABILITY, s, e, named=True):
        yield availability_record(row, venues)


Source = Callable[[psycopg.Connection, Venues, datetime, datetime], Iterator[Decoded]]
_SOURCES: Final[tuple[Source, ...]] = (
    _devices(_READINGS, Reading),
    _devices(_EVENTS, DeviceEvent),
    _devices(_STATUS, DeviceStatus),
    _scans,
    _availability,
)


def stored_records(conn: psycopg.Connection, start: datetime, end: datetime) -> Iterator[Decoded]:
    """Every stored record with device time (availability: receipt) in [start, end), in the
    engine's evaluation order. `conn` must not be in autocommit mode (server-side cursors)."""
    venues = load_venues(conn)
    streams = [source(conn, venues, start, end) for source in _SOURCES]
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
