"""Daily partitions of `reading` on plain PostgreSQL, created ahead of time, never on the hot path.

Rows that arrived while no partition covered their day sit in `reading_default`; creating the
partition moves them into it in the same transaction, so nothing is lost either way.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, time, timedelta

import psycopg
from psycopg import sql

log = logging.getLogger("firewatch.db")


def partition_name(day: date) -> str:
    """
    >>> partition_name(date(2026, 11, 29))
    'reading_p20261129'
    """
    return f"reading_p{day:%Y%m%d}"


def _bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(0), tzinfo=UTC)
    return start, start + timedelta(days=1)


def existing_partitions(conn: psycopg.Connection) -> set[str]:
    rows = conn.execute(
        """SELECT c.relname FROM pg_inherits i
           JOIN pg_class c ON c.oid = i.inhrelid
           JOIN pg_class p ON p.oid = i.inhparent
           WHERE p.relname = 'reading'"""
    ).fetchall()
    return {name for (name,) in rows}


def ensure_reading_partitions(conn: psycopg.Connection, start: date, end: date) -> list[str]:
    """Create the daily partitions for [start, end) that are missing; return their names."""
    have = existing_partitions(conn)
    created = []
    day = start
    while day < end:
        name = partition_name(day)
        if name not in have:
            _create(conn, day, name)
            created.append(name)
        day += timedelta(days=1)
    if created:
        log.info(
            "created %d readings partition(s): %s .. %s", len(created), created[0], created[-1]
        )
    return created


def _create(conn: psycopg.Connection, day: date, name: str) -> None:
    low, high = _bounds(day)
    table = sql.Identifier(name)
    with conn.transaction():
        # Building the table apart and attaching it lets rows parked in the default partition
        # move in first; CREATE ... PARTITION OF would refuse while the default holds them.
        conn.execute(
            sql.SQL(
                "CREATE TABLE {} (LIKE reading INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"
            ).format(table)
        )
        moved = conn.execute(
            sql.SQL(
                "WITH moved AS (DELETE FROM reading_default WHERE ts >= %s AND ts < %s RETURNING *)"
                " INSERT INTO {} SELECT * FROM moved"
            ).format(table),
            (low, high),
        ).rowcount
        conn.execute(
            # DDL takes no bind parameters: the bounds go in as quoted literals.
            sql.SQL("ALTER TABLE reading ATTACH PARTITION {} FOR VALUES FROM ({}) TO ({})").format(
                table, sql.Literal(low), sql.Literal(high)
            )
        )
    if moved:
        log.warning("moved %d readings of %s out of the default partition", moved, day)


def partition_of(conn: psycopg.Connection, ts: datetime, device_id: str) -> str | None:
    """Which partition holds a device's reading at `ts` (for tests and diagnostics)."""
    row = conn.execute(
        "SELECT tableoid::regclass::text FROM reading WHERE device_id = %s AND ts = %s",
        (device_id, ts),
    ).fetchone()
    return None if row is None else str(row[0])
