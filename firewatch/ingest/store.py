"""Durable batched writes: every record of a batch, and every rejection, in one transaction.

Each table is filled by COPY into a temporary staging table and one INSERT ... ON CONFLICT DO
NOTHING, so that a message the broker redelivers (same device, ts and seq) is stored once, even
across restarts, and the caller learns which records were new.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from operator import attrgetter
from typing import Any, Final

import psycopg

from firewatch.ingest.positions import record_batch
from firewatch.ingest.records import (
    Availability,
    Decoded,
    DeviceEvent,
    DeviceStatus,
    Reading,
    Rejected,
    VenueScan,
)
from firewatch.kernel import kinds

Row = tuple[Any, ...]
Key = tuple[str, datetime, int]

_HEAD: Final = ("ts", "received_at", "device_id", "kind", "venue_id", "seq")
READING_METRICS: Final = kinds.reading_columns()
EVENT_FIELDS: Final = kinds.event_columns()
STATUS_FIELDS: Final = kinds.status_columns()
READING_COLUMNS: Final = (*_HEAD, *READING_METRICS, "extra")
EVENT_COLUMNS: Final = (*_HEAD, "event", *EVENT_FIELDS, "extra")
STATUS_COLUMNS: Final = (*_HEAD, *STATUS_FIELDS, "extra")
"""Each table's copied columns: the head, then the declared fields of every kind
(`kernel.kinds`), in the records' attribute order, then `extra`."""
SCAN_COLUMNS: Final = (
    "ts", "received_at", "venue_id", "seq", "scan_type", "inspector", "items", "case_id", "extra",
)  # fmt: skip

_metrics = attrgetter(*READING_METRICS)
_event_fields = attrgetter(*EVENT_FIELDS)
_status_fields = attrgetter(*STATUS_FIELDS)


def _json(value: dict[str, Any]) -> str | None:
    return json.dumps(value, ensure_ascii=False) if value else None


def _reading_row(r: Reading) -> Row:
    return (r.ts, r.received_at, r.device_id, r.kind.value, r.venue_id, r.seq, *_metrics(r),
            _json(r.extra))  # fmt: skip


def _event_row(e: DeviceEvent) -> Row:
    return (e.ts, e.received_at, e.device_id, e.kind.value, e.venue_id, e.seq, e.event,
            *_event_fields(e), _json(e.extra))  # fmt: skip


def _status_row(s: DeviceStatus) -> Row:
    return (s.ts, s.received_at, s.device_id, s.kind.value, s.venue_id, s.seq,
            *_status_fields(s), _json(s.extra))  # fmt: skip


def _scan_row(s: VenueScan) -> Row:
    items = [
        {"item": i.item, "ok": i.ok, **({"note": i.note} if i.note is not None else {}), **i.extra}
        for i in s.items
    ]
    return (
        s.ts, s.received_at, s.venue_id, s.seq, s.scan_type, s.inspector,
        json.dumps(items, ensure_ascii=False), s.case_id, _json(s.extra),
    )  # fmt: skip


@dataclass(frozen=True, slots=True)
class _Table:
    name: str
    columns: tuple[str, ...]
    key: tuple[str, str, str]
    row: Callable[[Any], Row]
    record_key: Callable[[Any], Key]


def _device_key(r: Reading | DeviceEvent | DeviceStatus) -> Key:
    return (r.device_id, r.ts, r.seq)


def _venue_key(r: VenueScan) -> Key:
    return (r.venue_id, r.ts, r.seq)


_DEVICE_KEY = ("device_id", "ts", "seq")
_TABLES: Final[dict[type, _Table]] = {
    Reading: _Table("reading", READING_COLUMNS, _DEVICE_KEY, _reading_row, _device_key),
    DeviceEvent: _Table("device_event", EVENT_COLUMNS, _DEVICE_KEY, _event_row, _device_key),
    DeviceStatus: _Table("device_status", STATUS_COLUMNS, _DEVICE_KEY, _status_row, _device_key),
    VenueScan: _Table("venue_scan", SCAN_COLUMNS, ("venue_id", "ts", "seq"), _scan_row, _venue_key),
}


@dataclass(frozen=True, slots=True)
class WriteResult:
    """What one committed batch changed."""

    new: tuple[Decoded, ...]
    """Records stored now, in arrival order (redeliveries of stored ones left out)."""
    duplicates: dict[str, int]
    """Per table, records already stored before (broker redeliveries)."""
    rejected: dict[str, int]
    """Per reason, messages stored as rejected."""
    position: int | None = None
    """The batch's position (ingest.positions); None when it stored no record or the writer
    keeps no positions."""
    committed_at: datetime | None = None

    @staticmethod
    def merge(parts: Sequence[WriteResult]) -> WriteResult:
        duplicates: Counter[str] = Counter()
        rejected: Counter[str] = Counter()
        for part in parts:
            duplicates.update(part.duplicates)
            rejected.update(part.rejected)
        positions = [p.position for p in parts if p.position is not None]
        return WriteResult(
            tuple(r for part in parts for r in part.new), dict(duplicates), dict(rejected),
            # Written message by message: each part has its own position; the last covers the
            # batch as the stages see it (replay reads every part back by its own).
            positions[-1] if positions else None,
            max((p.committed_at for p in parts if p.committed_at), default=None),
        )  # fmt: skip


def _prepare(conn: psycopg.Connection) -> None:
    """Staging tables live as long as the connection and empty themselves at each commit."""
    for table in _TABLES.values():
        # Only the copied columns: identity and defaulted columns stay the real table's job.
        conn.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {table.name}_in ON COMMIT DELETE ROWS AS "
            f"SELECT {', '.join(table.columns)}, pos FROM {table.name} WITH NO DATA"
        )
    conn.commit()


def _copy(
    conn: psycopg.Connection, table: str, columns: Sequence[str], rows: Iterable[Row]
) -> None:
    with conn.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _insert_new(
    conn: psycopg.Connection, table: _Table, records: list[Any], pos: int | None
) -> set[Key] | None:
    """Stage and insert; the keys actually inserted, or None when every record was new."""
    _copy(conn, f"{table.name}_in", (*table.columns, "pos"), _rows(table, records, pos))
    cols = ", ".join((*table.columns, "pos"))
    key = ", ".join(table.key)
    cur = conn.execute(
        f"INSERT INTO {table.name} ({cols}) SELECT {cols} FROM {table.name}_in"
        f" ON CONFLICT DO NOTHING RETURNING {key}"
    )
    inserted = cur.fetchall()
    if len(inserted) == len(records):
        return None
    return {(a, b, c) for a, b, c in inserted}


def _rows(table: _Table, records: list[Any], pos: int | None) -> Iterable[Row]:
    """The table's rows, each with the batch's position (an explicit column: cheaper for COPY
    than the column default, which is for other writers)."""
    row = table.row
    return ((*row(r), pos) for r in records)


def _availability(conn: psycopg.Connection, records: list[Availability], pos: int | None) -> None:
    _copy(
        conn,
        "device_availability",
        ("received_at", "device_id", "online", "pos"),
        ((a.received_at, a.device_id, a.online, pos) for a in records),
    )


def _rejections(conn: psycopg.Connection, rejected: Sequence[Rejected]) -> None:
    _copy(
        conn,
        "rejected_message",
        ("received_at", "topic", "payload", "reason", "detail"),
        ((r.received_at, r.topic, r.payload, r.reason.value, r.detail) for r in rejected),
    )


class BatchWriter:
    """Writes batches on one connection; the caller owns retries and the connection's life.

    The usual batch holds only new messages and goes straight in by COPY. A broker
    redelivery (after a restart or reconnect) makes that COPY fail on the unique key; that
    batch is then written again through staging tables with ON CONFLICT DO NOTHING, which
    also tells which of its records were new.
    """

    def __init__(
        self,
        conn: psycopg.Connection,
        *,
        partition: str | None = None,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        """`partition`: positions are recorded under this name (None: no positions)."""
        self._conn = conn
        self._partition = partition
        self._now = now
        self.liveness = Liveness()
        self._flushed: dict[str, _Seen] = {}
        _prepare(conn)

    def write(
        self, decoded: Sequence[Decoded], rejected: Sequence[Rejected], *, flush_liveness: bool
    ) -> WriteResult:
        """Store a batch in one transaction; on any error nothing of it is stored.

        Liveness is gathered in memory and written when `flush_liveness` is set: last-seen
        times are derived data, and one upsert per device per batch would cost more than the
        readings themselves.
        """
        by_type: dict[type, list[Any]] = {}
        for record in decoded:
            by_type.setdefault(type(record), []).append(record)
        before = self.liveness.snapshot()
        self.liveness.add(decoded)
        reasons = dict(Counter(r.reason.value for r in rejected))
        try:
            return self._write(decoded, by_type, rejected, reasons, flush_liveness)
        except BaseException:
            # As before this batch: a batch the store refused must not leave its devices in
            # the pending liveness, where every later flush would fail on them again.
            self.liveness.reset(before)
            raise
        finally:
            self._flushed = {}

    def _write(
        self,
        decoded: Sequence[Decoded],
        by_type: dict[type, list[Any]],
        rejected: Sequence[Rejected],
        reasons: dict[str, int],
        flush_liveness: bool,
    ) -> WriteResult:
        try:
            with self._conn.transaction():
                position, at = self._position(len(decoded))
                for kind, records in by_type.items():
                    table = _TABLES.get(kind)
                    if table is None:
                        _availability(self._conn, records, position)
                    else:
                        rows = _rows(table, records, position)
                        _copy(self._conn, table.name, (*table.columns, "pos"), rows)
                self._finish(rejected, flush_liveness)
            return WriteResult(tuple(decoded), {}, reasons, position, at)
        except psycopg.errors.UniqueViolation:
            # A redelivery is in this batch: write it the careful way below.
            self.liveness.restore(self._flushed)
            self._flushed = {}
        fresh: dict[type, set[Key] | None] = {}
        duplicates: dict[str, int] = {}
        with self._conn.transaction():
            position, at = self._position(len(decoded))
            for kind, records in by_type.items():
                table = _TABLES.get(kind)
                if table is None:
                    _availability(self._conn, records, position)
                    continue
                fresh[kind] = _insert_new(self._conn, table, records, position)
                if fresh[kind] is not None:
                    duplicates[table.name] = len(records) - len(fresh[kind] or ())
            self._finish(rejected, flush_liveness)
        if not duplicates:
            return WriteResult(tuple(decoded), {}, reasons, position, at)
        new = []
        for r in decoded:
            keys = fresh.get(type(r))
            if keys is None:
                new.append(r)
                continue
            key = _TABLES[type(r)].record_key(r)
            if key in keys:
                keys.discard(key)  # a second copy in the same batch is a redelivery too
                new.append(r)
        return WriteResult(tuple(new), duplicates, reasons, position, at)

    def _position(self, records: int) -> tuple[int | None, datetime | None]:
        if self._partition is None or records == 0:
            return None, None
        at = self._now() if self._now is not None else datetime.now(UTC)
        return record_batch(self._conn, self._partition, at, records), at

    def flush_liveness(self) -> None:
        """Write the gathered liveness now, in its own transaction."""
        try:
            with self._conn.transaction():
                self._flushed = self.liveness.flush(self._conn)
        except BaseException:
            self.liveness.restore(self._flushed)
            raise
        finally:
            self._flushed = {}

    def _finish(self, rejected: Sequence[Rejected], flush_liveness: bool) -> None:
        if rejected:
            _rejections(self._conn, rejected)
        if flush_liveness:
            self._flushed = self.liveness.flush(self._conn)


_Seen = tuple[datetime, "datetime | None", bool, "DeviceStatus | None"]


class Liveness:
    """Each device's latest message since the last flush: when it was seen, its device time,
    whether that message said it is online, its latest status."""

    def __init__(self) -> None:
        self._latest: dict[str, _Seen] = {}

    def add(self, decoded: Sequence[Decoded]) -> None:
        latest = self._latest
        for r in decoded:
            if isinstance(r, VenueScan):
                continue
            seen, device_ts, online, status = latest.get(
                r.device_id, (r.received_at, None, True, None)
            )
            if isinstance(r, Availability):
                online = r.online
            else:
                device_ts = r.ts if device_ts is None else max(device_ts, r.ts)
                online = True
                if isinstance(r, DeviceStatus):
                    status = r
            latest[r.device_id] = (max(seen, r.received_at), device_ts, online, status)

    def __len__(self) -> int:
        return len(self._latest)

    def flush(self, conn: psycopg.Connection) -> dict[str, _Seen]:
        """One upsert for every device heard from; returns what it wrote, which the caller
        gives back (`restore`) if its transaction fails."""
        pending, self._latest = self._latest, {}
        if pending:
            _upsert_liveness(conn, pending)
        return pending

    def snapshot(self) -> dict[str, _Seen]:
        return dict(self._latest)

    def reset(self, saved: dict[str, _Seen]) -> None:
        self._latest = saved

    def restore(self, pending: dict[str, _Seen]) -> None:
        # Entries gathered since the flush are newer; keep them over the restored ones.
        self._latest = {**pending, **self._latest}


def _upsert_liveness(conn: psycopg.Connection, latest: dict[str, _Seen]) -> None:
    """One upsert per batch: each device's latest message decides whether it is online."""
    conn.execute(
        "CREATE TEMP TABLE IF NOT EXISTS liveness_in (LIKE device_liveness) ON COMMIT DROP"
    )
    _copy(
        conn,
        "liveness_in",
        ("device_id", "last_seen_at", "last_device_ts", "online", "offline_since",
         "offline_reason", "battery_pct", "rssi_dbm", "fw", "status_at"),
        (
            (
                device_id, seen, device_ts, online,
                None if online else seen, None if online else "last_will",
                s.battery_pct if s else None, s.rssi_dbm if s else None,
                s.fw if s else None, s.ts if s else None,
            )
            for device_id, (seen, device_ts, online, s) in latest.items()
        ),
    )  # fmt: skip
    # Devices the registry no longer has are skipped (the join), not an error for the batch.
    conn.execute(
        """
        INSERT INTO device_liveness AS l
        SELECT i.* FROM liveness_in i JOIN device d USING (device_id)
        ON CONFLICT (device_id) DO UPDATE SET
            last_seen_at = GREATEST(l.last_seen_at, excluded.last_seen_at),
            last_device_ts = GREATEST(l.last_device_ts, excluded.last_device_ts),
            online = excluded.online,
            offline_since = CASE
                WHEN excluded.online THEN NULL
                ELSE COALESCE(l.offline_since, excluded.offline_since) END,
            offline_reason = CASE WHEN excluded.online THEN NULL ELSE excluded.offline_reason END,
            battery_pct = COALESCE(excluded.battery_pct, l.battery_pct),
            rssi_dbm = COALESCE(excluded.rssi_dbm, l.rssi_dbm),
            fw = COALESCE(excluded.fw, l.fw),
            status_at = COALESCE(excluded.status_at, l.status_at)
        """
    )
