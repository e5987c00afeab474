"""Incremental maintenance of the readings rollups on plain PostgreSQL (migration 0009).

`refresh(conn, now, zone)` adds the readings stored since the last refresh to the hourly,
daily and per-minute tables, and moves the watermark, in one transaction. "Stored since" is by
`reading.stored_at`, which the database sets when the storing transaction starts, so late
device data and batches retried after an outage are found. The window ends at the high mark:
a moment before which every transaction has finished (`high_mark`), so that no reading can
commit behind the watermark. Sums and counts add, maxima take the greater, so each reading is
counted once and a refresh is cheap however long the history. On TimescaleDB the rollups
are continuous aggregates refreshed by their policies: `refresh` has nothing to do there.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final

import psycopg
from psycopg import pq

from firewatch.dashboards.errors import RollupError
from firewatch.kernel import kinds
from firewatch.kernel.kinds import Rollup

_LOCK: Final = 0x66_77_72_6F_6C  # "fwrol": one refresh at a time across engine processes


class HighMark(StrEnum):
    """Why the window ends where it does."""

    SETTLED = "settled"  # the settle time before the database's now
    WRITER_IN_PROGRESS = "writer_in_progress"  # a transaction that may still store readings


class Outcome(StrEnum):
    REFRESHED = "refreshed"
    NOTHING_NEW = "nothing_new"
    BUSY = "busy"  # another process holds the refresh lock
    CONTINUOUS_AGGREGATES = "continuous_aggregates"  # TimescaleDB refreshes its own


@dataclass(frozen=True, slots=True)
class RollupSettings:
    settle: timedelta = timedelta(seconds=2)
    writer_wait_cap: timedelta = timedelta(minutes=10)
    """A transaction open longer than this is not waited for (a forgotten psql session must
    not stall the rollups); readings it stores later are missed, and the report counts it."""
    minute_retention: timedelta = timedelta(days=35)


@dataclass(frozen=True, slots=True)
class RefreshReport:
    outcome: Outcome
    stored_from: datetime | None = None  # None: from the beginning
    stored_until: datetime | None = None
    high_mark: HighMark | None = None
    readings: int = 0
    pruned_minutes: int = 0
    ignored_writers: int = 0
    zone: str = ""


def high_mark(
    db_now: datetime, oldest_writer: datetime | None, settings: RollupSettings
) -> tuple[datetime, HighMark]:
    """Where this refresh's window ends: the settle time before now, or earlier, at the start
    of the oldest transaction still open (its readings will carry that start as stored_at)."""
    settled = db_now - settings.settle
    if oldest_writer is not None and oldest_writer < settled:
        return oldest_writer, HighMark.WRITER_IN_PROGRESS
    return settled, HighMark.SETTLED


# (column, aggregate over the new readings, how it merges into a stored row)
Column = tuple[str, str, str]


def _columns(c: str, how: Rollup) -> tuple[Column, ...]:
    """How a reading field's rollup (declared in `kernel.kinds`) becomes columns."""
    mean = ((f"{c}_sum", f"sum({c}::float8)", "sum"), (f"{c}_n", f"count({c})", "add"))
    top = ((f"{c}_max", f"max({c})", "max"),)
    if how is Rollup.COUNT_TRUE:
        return ((f"{c}_n", f"count(*) FILTER (WHERE {c})", "add"),)
    return {Rollup.MAX: top, Rollup.MEAN: mean, Rollup.MEAN_MAX: (*mean, *top)}[how]


_HOUR: Final = (
    ("kind", "max(kind)", "new"),
    ("n", "count(*)", "add"),
    *(col for c, how in kinds.rollups().items() for col in _columns(c, how)),
    ("lag_ms_sum", "sum(lag_ms)", "add"),
    ("lag_ms_max", "max(lag_ms)", "max"),
    ("last_ts", "max(ts)", "max"),
)
_DAY: Final = (
    ("kind", "max(kind)", "new"),
    ("n", "count(*)", "add"),
    ("alarm_n", "count(*) FILTER (WHERE alarm)", "add"),
    ("last_ts", "max(ts)", "max"),
)
_MINUTE: Final = (
    ("n", "count(*)", "add"),
    ("lag_ms_sum", "sum(lag_ms)", "add"),
    ("lag_ms_max", "max(lag_ms)", "max"),
)
_MERGE: Final = {
    "new": "EXCLUDED.{c}",
    "add": "t.{c} + EXCLUDED.{c}",
    "sum": "coalesce(t.{c} + EXCLUDED.{c}, t.{c}, EXCLUDED.{c})",  # NULL: nothing measured yet
    "max": "greatest(t.{c}, EXCLUDED.{c})",  # greatest() ignores NULLs
}
_NEW_READINGS: Final = (
    "(SELECT *, date_part('epoch', received_at - ts) * 1000 AS lag_ms FROM reading"
    " WHERE stored_at >= %(lo)s::timestamptz AND stored_at < %(hi)s::timestamptz{extra}) r"
)


def _upsert(
    table: str,
    keys: tuple[tuple[str, str], ...],
    columns: tuple[tuple[str, str, str], ...],
    extra: str = "",
) -> str:
    """One statement: aggregate the window's readings by `keys`, add them into `table`; it
    returns how many readings it added."""
    names = [k for k, _ in keys] + [c for c, _, _ in columns]
    exprs = [f"{e} AS {k}" for k, e in keys] + [f"{a} AS {c}" for c, a, _ in columns]
    merge = ", ".join(f"{c} = {_MERGE[how].format(c=c)}" for c, _, how in columns)
    return (
        f"WITH delta AS (SELECT {', '.join(exprs)} FROM {_NEW_READINGS.format(extra=extra)}"
        f" GROUP BY {', '.join(str(i + 1) for i in range(len(keys)))}),"
        f" merged AS (INSERT INTO {table} AS t ({', '.join(names)}) SELECT * FROM delta"
        f" ON CONFLICT ({', '.join(k for k, _ in keys)}) DO UPDATE SET {merge})"
        " SELECT coalesce(sum(n), 0) FROM delta"
    )


HOURLY_SQL: Final = _upsert(
    "rollup_reading_hour",
    (("venue_id", "venue_id"), ("device_id", "device_id"), ("bucket", "date_trunc('hour', ts)")),
    _HOUR,
)
DAILY_SQL: Final = _upsert(
    "rollup_reading_day",
    (("day", "date_trunc('day', ts, %(zone)s)"), ("venue_id", "venue_id"),
     ("device_id", "device_id")),
    _DAY,
)  # fmt: skip
MINUTE_SQL: Final = _upsert(
    "rollup_ingest_minute",
    (("bucket", "date_trunc('minute', ts)"), ("kind", "kind")),
    _MINUTE,
    extra=" AND ts >= %(keep_from)s::timestamptz",
)
_WRITERS: Final = """SELECT statement_timestamp(),
       min(xact_start) FILTER (WHERE xact_start >= statement_timestamp() - %(cap)s),
       count(*) FILTER (WHERE xact_start < statement_timestamp() - %(cap)s)
FROM pg_stat_activity
WHERE datname = current_database() AND pid <> pg_backend_pid()
  AND backend_type = 'client backend' AND xact_start IS NOT NULL"""


def backend(conn: psycopg.Connection) -> str:
    """The store backend recorded at the first migration."""
    row = conn.execute("SELECT value FROM schema_meta WHERE key = 'store_backend'").fetchone()
    if row is None:
        raise RollupError("the database has no firewatch schema: run `firewatch db migrate`")
    return str(row[0])


def refresh(
    conn: psycopg.Connection, now: datetime, zone: str, settings: RollupSettings | None = None
) -> RefreshReport:
    """Roll up what was stored since the last refresh. `conn` must not be in a transaction
    (the refresh is one); `now` is the engine's time, for pruning; `zone` cuts the days (the
    first refresh records it)."""
    settings = settings or RollupSettings()
    if conn.info.transaction_status != pq.TransactionStatus.IDLE:
        raise RollupError("rollup refresh needs a connection that is not inside a transaction")
    if backend(conn) == "timescaledb":
        return RefreshReport(Outcome.CONTINUOUS_AGGREGATES)
    with conn.transaction():
        locked = conn.execute("SELECT pg_try_advisory_xact_lock(%s)", (_LOCK,)).fetchone()
        if not locked or not locked[0]:
            return RefreshReport(Outcome.BUSY)
        # the summed costs of ~40 partitions' scans trip JIT, which costs more than it saves
        conn.execute("SET LOCAL jit = off")
        # the database's now, the oldest other open transaction, and how many are older still
        writers = conn.execute(_WRITERS, {"cap": settings.writer_wait_cap}).fetchone()
        if writers is None:
            raise RollupError("rollup refresh: pg_stat_activity returned no row")
        db_now, oldest, ignored = writers
        lo, zone = _watermark(conn, zone)
        hi, why = high_mark(db_now, oldest, settings)
        if lo is not None and hi <= lo:
            return RefreshReport(Outcome.NOTHING_NEW, lo, lo, why, 0, 0, ignored, zone)
        params = {"lo": lo or "-infinity", "hi": hi, "zone": zone,
                  "keep_from": now - settings.minute_retention}  # fmt: skip
        added = conn.execute(HOURLY_SQL, params).fetchone()
        readings = int(added[0]) if added else 0
        conn.execute(DAILY_SQL, params)
        conn.execute(MINUTE_SQL, params)
        pruned = conn.execute(
            "DELETE FROM rollup_ingest_minute WHERE bucket < %s", (params["keep_from"],)
        ).rowcount
        conn.execute(
            "UPDATE rollup_watermark SET stored_until = %s, refreshed_at = %s,"
            " rows_total = rows_total + %s WHERE name = 'reading'",
            (hi, now, readings),
        )
    outcome = Outcome.REFRESHED if readings else Outcome.NOTHING_NEW
    return RefreshReport(outcome, lo, hi, why, readings, pruned, ignored, zone)


def _watermark(conn: psycopg.Connection, zone: str) -> tuple[datetime | None, str]:
    """Where the last refresh stopped (None: never ran) and the zone days are cut in."""
    row = conn.execute(
        "SELECT CASE WHEN stored_until = '-infinity' THEN NULL ELSE stored_until END, zone"
        " FROM rollup_watermark WHERE name = 'reading' FOR UPDATE"
    ).fetchone()
    if row is None:
        raise RollupError("rollup_watermark has no row for readings: is migration 0009 applied?")
    stored_until, recorded_zone = row
    if stored_until is None and recorded_zone != zone:
        conn.execute("UPDATE rollup_watermark SET zone = %s WHERE name = 'reading'", (zone,))
        return None, zone
    return stored_until, str(recorded_zone)


def reset(conn: psycopg.Connection, zone: str) -> None:
    """Empty the rollups; the next refresh rebuilds them from the readings still stored (for a
    change of zone, or after restoring readings from a backup)."""
    if backend(conn) == "timescaledb":
        raise RollupError(
            "rollup reset: on TimescaleDB the rollups are continuous aggregates;"
            " use refresh_continuous_aggregate() on the views"
        )
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK,))
        conn.execute("TRUNCATE rollup_reading_hour, rollup_reading_day, rollup_ingest_minute")
        conn.execute(
            "UPDATE rollup_watermark SET stored_until = '-infinity', zone = %s,"
            " refreshed_at = NULL, rows_total = 0 WHERE name = 'reading'",
            (zone,),
        )
