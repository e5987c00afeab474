"""Stored batches read back by position, as the stages first saw them (or should have).

What a stage has not yet processed after a crash, and the recent history that warms its state
at start-up, come back through here: each position's records (rows carrying its `pos`), the
devices its liveness sweep found silent, and the time it was committed. Registry fields
(community, grid, station) are filled from today's registry, as ingest fills them.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

import psycopg
from psycopg.rows import dict_row

from firewatch.ingest.positions import offline_from_json
from firewatch.ingest.records import (
    Availability,
    Decoded,
    DeviceEvent,
    DeviceStatus,
    Reading,
    ScanItem,
    VenueScan,
)
from firewatch.ingest.store import EVENT_COLUMNS, READING_COLUMNS, SCAN_COLUMNS, STATUS_COLUMNS
from firewatch.ingest.stream import Batch
from firewatch.kernel.contract import DeviceKind

log = logging.getLogger("firewatch.ingest")

CHUNK_RECORDS: Final = 20_000
"""Records read per round trip at most (whole positions: one big batch may exceed it)."""

_POSITIONS: Final = """
SELECT pos, committed_at, records, offline FROM ingest_batch
WHERE partition = %s AND pos > %s AND (%s::bigint IS NULL OR pos <= %s)
ORDER BY pos
"""
_SINCE: Final = """
SELECT min(pos) FROM ingest_batch WHERE partition = %s AND committed_at >= %s
"""
_VENUES: Final = "SELECT venue_id, community, grid, station_id FROM venue"


@dataclass(frozen=True, slots=True)
class _Position:
    pos: int
    committed_at: datetime
    records: int
    offline: Any


def first_position_since(conn: psycopg.Connection, partition: str, since: datetime) -> int | None:
    """The partition's first position committed at or after `since` (None: none since)."""
    row = conn.execute(_SINCE, (partition, since)).fetchone()
    return None if row is None or row[0] is None else int(row[0])


TABLES: Final = ("reading", "device_event", "device_status", "venue_scan", "device_availability")


def stored_batches(
    conn: psycopg.Connection,
    partition: str,
    after: int,
    until: int | None = None,
    floors: Mapping[str, int] | None = None,
) -> Iterator[Batch]:
    """The partition's batches with `after` < position <= `until` (None: to the last), in
    position order. `floors`: per table (`TABLES`), rows below that position are left out (a
    warm-up reads sparse events further back than readings). A row that can no longer be read
    as a record is logged and left out."""
    positions = [
        _Position(*row) for row in conn.execute(_POSITIONS, (partition, after, until, until))
    ]
    conn.commit()  # no transaction held open across the stages' work on each chunk
    venues = load_venues(conn)
    conn.commit()
    for chunk in _chunks(positions):
        by_pos = _records(conn, [p.pos for p in chunk if p.records], venues, floors or {})
        conn.commit()
        for p in chunk:
            found = by_pos.get(p.pos, [])
            found.sort(key=_arrival)
            yield Batch(tuple(found), offline_from_json(p.offline) if p.offline else (),
                        p.committed_at, p.pos)  # fmt: skip


def _chunks(positions: Sequence[_Position]) -> Iterator[list[_Position]]:
    chunk: list[_Position] = []
    size = 0
    for p in positions:
        chunk.append(p)
        size += p.records
        if size >= CHUNK_RECORDS:
            yield chunk
            chunk, size = [], 0
    if chunk:
        yield chunk


def _arrival(r: Decoded) -> tuple[datetime, datetime]:
    return (r.received_at, r.received_at if isinstance(r, Availability) else r.ts)


_DEVICE_TABLES: Final = (
    ("reading", READING_COLUMNS, Reading),
    ("device_event", EVENT_COLUMNS, DeviceEvent),
    ("device_status", STATUS_COLUMNS, DeviceStatus),
)


def _records(
    conn: psycopg.Connection,
    positions: list[int],
    venues: Venues,
    floors: Mapping[str, int],
) -> dict[int, list[Decoded]]:
    out: dict[int, list[Decoded]] = {}
    if not positions:
        return out
    where = "{p}pos >= %(lo)s AND {p}pos <= %(hi)s AND {p}pos = ANY(%(all)s)"
    lo = positions[0]

    def args(table: str) -> dict[str, Any]:
        return {"lo": max(lo, floors.get(table, lo)), "hi": positions[-1], "all": positions}

    with conn.cursor() as plain:
        for table, columns, make in _DEVICE_TABLES:
            plain.execute(
                f"SELECT pos, {', '.join(columns)} FROM {table} WHERE {where.format(p='')}",
                args(table),
            )
            _device_rows(plain, make, venues, out)
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            f"SELECT pos, {', '.join(SCAN_COLUMNS)} FROM venue_scan WHERE {where.format(p='')}",
            args("venue_scan"),
        )
        for row in cur:
            _keep(out, row, lambda r: scan_record(r, venues))
        cur.execute(
            "SELECT a.pos, a.received_at, a.device_id, a.online, d.kind, d.venue_id"
            " FROM device_availability a JOIN device d USING (device_id)"
            f" WHERE {where.format(p='a.')}",
            args("device_availability"),
        )
        for row in cur:
            _keep(out, row, lambda r: availability_record(r, venues))
    return out


_KINDS: Final = {k.value: k for k in DeviceKind}
_NOWHERE: Final = ("", "", "")


Venues = dict[str, tuple[str, str, str]]
"""venue id → (community, grid, station id): what ingest adds to each record."""


def load_venues(conn: psycopg.Connection) -> Venues:
    return {v: (c, g, s) for v, c, g, s in conn.execute(_VENUES)}


def device_record(make: Any, row: Sequence[Any], venues: Venues) -> Decoded:
    """A row of a device table (`READING_COLUMNS` etc.: the record's fields in order, `extra`
    last) as the record; positional, as a backlog of millions of readings goes through here.
    Raises KeyError, TypeError or ValueError for a row that no longer reads."""
    ts, received, device, kind, venue, seq, *values, extra = row
    place = venues.get(venue, _NOWHERE)
    record: Decoded = make(ts, received, device, _KINDS[kind], venue, *place, seq, *values,
                           _extra(extra))  # fmt: skip
    return record


def _device_rows(
    rows: Iterable[tuple[Any, ...]], make: Any, venues: Venues, out: dict[int, list[Decoded]]
) -> None:
    for pos, *row in rows:
        try:
            record = device_record(make, row, venues)
        except (KeyError, TypeError, ValueError) as exc:
            log.error("a stored row at position %s cannot be read back (%s); left out", pos, exc)
            continue
        out.setdefault(pos, []).append(record)


def _keep(out: dict[int, list[Decoded]], row: dict[str, Any], make: Any) -> None:
    pos = row.pop("pos")
    try:
        out.setdefault(pos, []).append(make(row))
    except (KeyError, TypeError, ValueError) as exc:
        log.error("a stored row at position %s cannot be read back (%s); left out", pos, exc)


def _place(venues: Venues, venue_id: str) -> dict[str, Any]:
    community, grid, station = venues.get(venue_id, _NOWHERE)
    return {"community": community, "grid": grid, "station_id": station}


def _extra(value: Any) -> dict[str, Any]:
    if isinstance(value, str):
        value = json.loads(value)
    return value if isinstance(value, dict) else {}


def scan_record(row: dict[str, Any], venues: Venues) -> VenueScan:
    """A `venue_scan` row (`SCAN_COLUMNS`, by name) as the record."""
    items = row["items"]
    listed = json.loads(items) if isinstance(items, str) else items
    checklist = []
    for i in listed if isinstance(listed, list) else ():
        rest = {k: v for k, v in i.items() if k not in ("item", "ok", "note")}
        checklist.append(ScanItem(str(i["item"]), bool(i["ok"]), i.get("note"), rest))
    row["items"] = tuple(checklist)
    row["extra"] = _extra(row.get("extra"))
    return VenueScan(**row, **_place(venues, row["venue_id"]))


def availability_record(row: dict[str, Any], venues: Venues) -> Availability:
    """A `device_availability` row joined with its device (`received_at`, `device_id`,
    `online`, `kind`, `venue_id`) as the record."""
    return Availability(
        row["received_at"], row["device_id"], DeviceKind(row["kind"]), row["venue_id"],
        **_place(venues, row["venue_id"]), online=row["online"],
    )  # fmt: skip
