"""Writes a validated batch: stations, then venues, then devices, each upserted in one statement.

Rows are COPYed into a temporary table and merged with one INSERT ... ON CONFLICT, so that a few
thousand devices cost a handful of round trips. A row whose values did not change is left alone
(its `updated_at` keeps saying when it last changed) and counted as unchanged.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import astuple, dataclass
from typing import Any, Final

import psycopg
from psycopg import sql
from psycopg.rows import tuple_row

from firewatch.registry.records import COLUMNS, Batch, Kind, Record, Row

TYPES: Final[dict[Kind, tuple[str, ...]]] = {
    Kind.STATION: ("text", "text", "text", "text[]", "float8", "float8"),
    Kind.VENUE: (
        "text",
        "text",
        "text",
        "int2",
        "text",
        "text",
        "text",
        "float8",
        "float8",
        "text",
        "text[]",
    ),
    Kind.DEVICE: ("text", "text", "text", "text", "int4"),
}
"""Column types for COPY, in COLUMNS order (they follow migrations/0001_registry.sql)."""


@dataclass(frozen=True, slots=True)
class Counts:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0

    @property
    def total(self) -> int:
        return self.inserted + self.updated + self.unchanged


@dataclass(frozen=True, slots=True)
class ImportReport:
    """What one import did to each table.

    >>> print(ImportReport(Counts(2), Counts(1, 1, 3), Counts()))
    stations: 2 new, 0 updated, 0 unchanged; venues: 1 new, 1 updated, 3 unchanged; devices: none
    """

    stations: Counts
    venues: Counts
    devices: Counts

    def __str__(self) -> str:
        parts = []
        for kind, c in zip(Kind, (self.stations, self.venues, self.devices), strict=True):
            counts = f"{c.inserted} new, {c.updated} updated, {c.unchanged} unchanged"
            parts.append(f"{kind.plural}: {counts if c.total else 'none'}")
        return "; ".join(parts)


def existing_ids(conn: psycopg.Connection[Any], kind: Kind, ids: Collection[str]) -> frozenset[str]:
    """Which of these ids the table holds.

    The rows found are locked against deletion until the import commits, so that a reference
    checked here still holds when the rows that use it are written.
    """
    if not ids:
        return frozenset()
    key = sql.Identifier(COLUMNS[kind][0])
    query = sql.SQL("SELECT {key} FROM {table} WHERE {key} = ANY(%s) FOR KEY SHARE").format(
        key=key, table=sql.Identifier(kind.value)
    )
    with conn.cursor(row_factory=tuple_row) as cur:
        return frozenset(row[0] for row in cur.execute(query, (list(ids),)))


def upsert(conn: psycopg.Connection[Any], batch: Batch) -> ImportReport:
    """Write the batch inside the caller's transaction; parents first, for the foreign keys."""
    return ImportReport(
        stations=_upsert(conn, Kind.STATION, batch.stations),
        venues=_upsert(conn, Kind.VENUE, batch.venues),
        devices=_upsert(conn, Kind.DEVICE, batch.devices),
    )


def _upsert(conn: psycopg.Connection[Any], kind: Kind, rows: Sequence[Row[Any]]) -> Counts:
    if not rows:
        return Counts()
    columns = COLUMNS[kind]
    table = sql.Identifier(kind.value)
    staging = _staging(kind)
    names = sql.SQL(", ").join(map(sql.Identifier, columns))
    with conn.cursor(row_factory=tuple_row) as cur:
        cur.execute(
            sql.SQL(
                "CREATE TEMP TABLE {staging} ON COMMIT DROP"
                " AS SELECT {names} FROM {table} WITH NO DATA"
            ).format(staging=staging, names=names, table=table)
        )
        copy_in = sql.SQL("COPY {staging} ({names}) FROM STDIN")
        with cur.copy(copy_in.format(staging=staging, names=names)) as copy:
            copy.set_types(list(TYPES[kind]))
            for row in rows:
                copy.write_row(_values(row.record))
        changed = cur.execute(_merge(kind)).fetchall()
        # Dropped now, not only at commit, so that a caller may import twice in one transaction.
        cur.execute(sql.SQL("DROP TABLE {staging}").format(staging=staging))
    inserted = sum(1 for (new,) in changed if new)
    return Counts(inserted, len(changed) - inserted, len(rows) - len(changed))


def _values(record: Record) -> tuple[object, ...]:
    # Lists go to PostgreSQL arrays; psycopg adapts lists, not tuples.
    return tuple(list(v) if isinstance(v, tuple) else v for v in astuple(record))


def _staging(kind: Kind) -> sql.Identifier:
    return sql.Identifier(f"registry_import_{kind.value}")


def _merge(kind: Kind) -> sql.Composed:
    key, *rest = COLUMNS[kind]
    names = sql.SQL(", ").join(map(sql.Identifier, COLUMNS[kind]))
    current = sql.SQL(", ").join(sql.SQL("t.{}").format(sql.Identifier(c)) for c in rest)
    incoming = sql.SQL(", ").join(sql.SQL("excluded.{}").format(sql.Identifier(c)) for c in rest)
    return sql.SQL(
        "INSERT INTO {table} AS t ({names}) SELECT {names} FROM {staging}"
        " ON CONFLICT ({key}) DO UPDATE SET ({rest}) = ROW({incoming}), updated_at = now()"
        " WHERE ({current}) IS DISTINCT FROM ({incoming})"
        # xmax is 0 on a row this statement inserted, and set on one it updated.
        " RETURNING (t.xmax = 0)"
    ).format(
        table=sql.Identifier(kind.value),
        names=names,
        staging=_staging(kind),
        key=sql.Identifier(key),
        rest=sql.SQL(", ").join(map(sql.Identifier, rest)),
        incoming=incoming,
        current=current,
    )
