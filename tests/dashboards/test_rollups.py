"""The rollups the engine maintains: each reading counted once, whenever it was stored,
nothing lost behind a transaction still open, one refresher at a time, and the views equal to
the raw readings before and after a refresh."""

from __future__ import annotations

import re
import threading
from datetime import UTC, datetime, timedelta
from importlib.resources import files
from random import Random

import psycopg
import pytest

from firewatch.dashboards import rollups
from firewatch.dashboards.errors import RollupError
from firewatch.dashboards.rollups import HighMark, Outcome, RollupSettings, high_mark, refresh
from firewatch.dashboards.upkeep import keep_rollups
from firewatch.kernel.clock import SystemClock
from tests.dashboards.seed import copy_gas_readings
from tests.ingest.seed import DEVICES, seed_registry

ZONE = "Asia/Shanghai"
NOW = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)
S = RollupSettings(settle=timedelta(0))
T = datetime(2026, 11, 29, 12, 0, 0, tzinfo=UTC)

MARKS = [
    # (database now, oldest other transaction, expected end of window, reason)
    # nothing else open: the settle time before now
    (T, None, T - timedelta(seconds=2), HighMark.SETTLED),
    # a transaction that began long ago may still store readings stamped with its start
    (T, T - timedelta(minutes=3), T - timedelta(minutes=3), HighMark.WRITER_IN_PROGRESS),
    # one that began within the settle time changes nothing
    (T, T - timedelta(seconds=1), T - timedelta(seconds=2), HighMark.SETTLED),
]


@pytest.mark.parametrize(("db_now", "oldest", "until", "why"), MARKS)
def test_high_mark(
    db_now: datetime, oldest: datetime | None, until: datetime, why: HighMark
) -> None:
    assert high_mark(db_now, oldest, RollupSettings()) == (until, why)


def _copy(conn: psycopg.Connection, rows: list[tuple[object, ...]]) -> None:
    with (
        conn.cursor() as cur,
        cur.copy(
            "COPY reading (ts, received_at, device_id, kind, venue_id, seq, smoke_obs, temp_c,"
            " power_w, alarm) FROM STDIN"
        ) as copy,
    ):
        for row in rows:
            copy.write_row(row)


def _readings(start: datetime, hours: int, seed: int, every: timedelta) -> list[tuple[object, ...]]:
    rng = Random(seed)
    rows: list[tuple[object, ...]] = []
    for device, kind, venue in (("SMK-1", "smoke", "V-HOME"), ("SMK-2", "smoke", "V-HOME"),
                                ("CHG-1", "charging", "V-SHED")):  # fmt: skip
        ts = start
        while ts < start + timedelta(hours=hours):
            late = timedelta(milliseconds=rng.randint(50, 5000))
            smoke = rng.uniform(0, 1) if kind == "smoke" else None
            temp = rng.choice((None, rng.uniform(15, 40)))
            power = rng.uniform(0, 300) if kind == "charging" else None
            rows.append((ts, ts + late, device, kind, venue, seed * 100_000 + len(rows), smoke,
                         temp, power, kind == "smoke" and rng.random() < 0.1))  # fmt: skip
            ts += every
    return rows


_RAW_HOURLY = """SELECT venue_id, device_id, date_trunc('hour', ts), count(*),
    count(*) FILTER (WHERE alarm), max(smoke_obs), round(sum(temp_c::float8)::numeric, 2),
    count(temp_c), max(temp_c), max(power_w), max(ts)
FROM reading GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"""
_ROLLED = """SELECT venue_id, device_id, bucket, sum(n), sum(alarm_n), max(smoke_obs_max),
    round(sum(temp_c_sum)::numeric, 2), sum(temp_c_n), max(temp_c_max), max(power_w_max),
    max(last_ts)
FROM {} GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"""
_RAW_DAILY = """SELECT date_trunc('day', ts, 'Asia/Shanghai'), device_id, count(*)
FROM reading GROUP BY 1, 2 ORDER BY 1, 2"""
_RAW_MINUTE = """SELECT date_trunc('minute', ts), kind, count(*),
    round(sum(date_part('epoch', received_at - ts) * 1000)::numeric, 1)
FROM reading GROUP BY 1, 2 ORDER BY 1, 2"""


def _assert_matches_raw(conn: psycopg.Connection) -> None:
    raw = conn.execute(_RAW_HOURLY).fetchall()
    assert raw
    assert conn.execute(_ROLLED.format("reading_hourly")).fetchall() == raw
    daily = "SELECT day, device_id, sum(n) FROM {} GROUP BY 1, 2 ORDER BY 1, 2"
    assert (
        conn.execute(daily.format("reading_daily")).fetchall()
        == conn.execute(_RAW_DAILY).fetchall()
    )
    minute = ("SELECT bucket, kind, sum(n), round(sum(lag_ms_sum)::numeric, 1) FROM {}"
              " GROUP BY 1, 2 ORDER BY 1, 2")  # fmt: skip
    assert (
        conn.execute(minute.format("ingest_minute")).fetchall()
        == conn.execute(_RAW_MINUTE).fetchall()
    )


def test_each_reading_counted_once_however_late(fresh_db: str) -> None:
    seed_registry(fresh_db)
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=6)
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        _copy(conn, _readings(start, 4, 1, timedelta(minutes=1)))
        _assert_matches_raw(conn)  # the views see what no refresh has rolled up yet
        first = refresh(conn, NOW, ZONE, S)
        assert (first.outcome, first.readings, first.stored_from) == (Outcome.REFRESHED, 720, None)
        assert (
            conn.execute(_ROLLED.format("rollup_reading_hour")).fetchall()
            == conn.execute(_RAW_HOURLY).fetchall()
        )
        # late readings for hours already rolled up, and new hours
        _copy(conn, _readings(start + timedelta(minutes=30, seconds=7), 5, 2, timedelta(minutes=3)))
        _assert_matches_raw(conn)
        second = refresh(conn, NOW, ZONE, S)
        assert second.readings == 300 and second.stored_from == first.stored_until
        _assert_matches_raw(conn)
        assert (
            conn.execute(_ROLLED.format("rollup_reading_hour")).fetchall()
            == conn.execute(_RAW_HOURLY).fetchall()
        )
        assert refresh(conn, NOW, ZONE, S).outcome is Outcome.NOTHING_NEW


def test_an_open_transaction_holds_the_watermark(fresh_db: str) -> None:
    seed_registry(fresh_db)
    start = datetime.now(UTC) - timedelta(hours=2)
    with psycopg.connect(fresh_db, autocommit=True) as conn, psycopg.connect(fresh_db) as writer:
        _copy(conn, _readings(start, 1, 1, timedelta(minutes=5)))
        # a batch in flight: stored_at is its transaction's start, its commit comes later
        opened = writer.execute("SELECT now()").fetchone()
        _copy(writer, _readings(start, 1, 2, timedelta(minutes=7)))
        _copy(conn, _readings(start, 1, 3, timedelta(minutes=11)))  # committed after it began
        held = refresh(conn, NOW, ZONE, S)
        assert held.high_mark is HighMark.WRITER_IN_PROGRESS
        assert opened is not None and held.stored_until == opened[0]
        assert held.readings == 36  # only what was stored before the open transaction began
        writer.commit()
        after = refresh(conn, NOW, ZONE, S)
        assert after.readings == 27 + 18 and after.high_mark is HighMark.SETTLED
        _assert_matches_raw(conn)


def test_one_refresher_at_a_time(fresh_db: str) -> None:
    with (
        psycopg.connect(fresh_db, autocommit=True) as conn,
        psycopg.connect(fresh_db, autocommit=True) as other,
    ):
        other.execute("SELECT pg_advisory_lock(%s)", (rollups._LOCK,))
        assert refresh(conn, NOW, ZONE, S).outcome is Outcome.BUSY
        other.execute("SELECT pg_advisory_unlock(%s)", (rollups._LOCK,))
        assert refresh(conn, NOW, ZONE, S).outcome is Outcome.NOTHING_NEW


def test_zone_recorded_at_first_refresh_and_reset(fresh_db: str) -> None:
    seed_registry(fresh_db)
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        _copy(conn, _readings(datetime.now(UTC) - timedelta(hours=30), 2, 1, timedelta(minutes=2)))
        assert refresh(conn, NOW, "Europe/Berlin", S).zone == "Europe/Berlin"
        assert refresh(conn, NOW, ZONE, S).zone == "Europe/Berlin"  # kept: days stay whole
        days = conn.execute("SELECT DISTINCT day FROM rollup_reading_day").fetchall()
        assert all(d.astimezone(UTC).hour in (22, 23) for (d,) in days)  # Berlin midnight
        rollups.reset(conn, ZONE)
        rebuilt = refresh(conn, NOW, ZONE, S)
        assert (rebuilt.zone, rebuilt.readings, rebuilt.stored_from) == (ZONE, 180, None)
        _assert_matches_raw(conn)


def test_minute_rows_are_kept_for_the_retention_only(fresh_db: str) -> None:
    seed_registry(fresh_db)
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        _copy(conn, _readings(datetime.now(UTC) - timedelta(hours=3), 1, 1, timedelta(minutes=1)))
        later = datetime.now(UTC) + timedelta(days=40)  # time is passed in: prune as of then
        report = refresh(conn, later, ZONE, S)
        assert report.readings == 180
        assert conn.execute("SELECT count(*) FROM rollup_ingest_minute").fetchone() == (0,)
        assert conn.execute("SELECT sum(n) FROM rollup_reading_hour").fetchone() == (180,)


def test_refused_inside_a_transaction_and_skipped_on_timescaledb(fresh_db: str) -> None:
    with psycopg.connect(fresh_db) as conn:
        conn.execute("SELECT 1")
        with pytest.raises(RollupError, match="not inside a transaction"):
            refresh(conn, NOW, ZONE, S)
        conn.execute("UPDATE schema_meta SET value = 'timescaledb' WHERE key = 'store_backend'")
        conn.commit()
        assert refresh(conn, NOW, ZONE, S).outcome is Outcome.CONTINUOUS_AGGREGATES


def test_the_engine_task_keeps_them_up_to_date(fresh_db: str) -> None:
    seed_registry(fresh_db)
    stop = threading.Event()
    task = threading.Thread(
        target=keep_rollups,
        args=(fresh_db, SystemClock(), ZONE, stop),
        kwargs={"every_s": 0.05, "settings": S},
        name="rollups",
    )
    task.start()
    try:
        with psycopg.connect(fresh_db, autocommit=True) as conn:
            _copy(
                conn, _readings(datetime.now(UTC) - timedelta(hours=1), 1, 1, timedelta(minutes=1))
            )
            for _ in range(100):
                stored = conn.execute("SELECT sum(n) FROM rollup_reading_hour").fetchone()
                if stored == (180,):
                    break
                stop.wait(0.05)
            assert stored == (180,)
    finally:
        stop.set()
        task.join(timeout=10)
    assert not task.is_alive()


_CAGG = r"CREATE MATERIALIZED VIEW (\w+)\s+WITH \([^)]*\) AS\s+(.*?)\s+WITH (?:NO )?DATA;"


def test_timescale_variant_defines_the_same_columns(fresh_db: str) -> None:
    """The continuous aggregates' SELECTs, run as plain views with a stand-in `time_bucket`
    (no TimescaleDB here), give the panels the same columns as the plain variant's views."""
    migrations = files("firewatch.db") / "migrations"
    views: dict[str, str] = {}  # the latest definition of each: a later migration recreates one
    for path in sorted(migrations.iterdir(), key=lambda p: p.name):
        if path.name.endswith(".timescale.sql"):
            views.update(re.findall(_CAGG, path.read_text(), re.S))
    assert list(views) == ["reading_hourly", "reading_daily", "ingest_minute"]
    columns = ("SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute"
               " WHERE attrelid = %s::regclass AND attnum > 0 ORDER BY attnum")  # fmt: skip
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute("CREATE SCHEMA tsx")
        conn.execute(
            "CREATE FUNCTION tsx.time_bucket(interval, timestamptz) RETURNS timestamptz"
            " IMMUTABLE LANGUAGE sql AS $$ SELECT date_bin($1, $2, '2000-01-03') $$"
        )
        conn.execute(
            "CREATE FUNCTION tsx.time_bucket(interval, timestamptz, text) RETURNS timestamptz"
            " LANGUAGE sql AS $$ SELECT date_trunc('day', $2, $3) $$"
        )
        conn.execute("SET search_path = public, tsx")
        for name, select in views.items():
            conn.execute(f"CREATE VIEW tsx.{name} AS {select}".encode())
            timescale = conn.execute(columns, (f"tsx.{name}",)).fetchall()
            plain = conn.execute(columns, (f"public.{name}",)).fetchall()
            assert timescale == plain, name


GAS_DEVICES = {**DEVICES, "GAS-1": ("gas", "V-SHOP"), "GAS-2": ("gas", "V-SHOP")}
_RAW_GAS = """SELECT device_id, date_trunc('hour', ts), count(*), count(*) FILTER (WHERE alarm),
    max(lel_pct)
FROM reading WHERE kind = 'gas' GROUP BY 1, 2 ORDER BY 1, 2"""
_ROLLED_GAS = """SELECT device_id, bucket, sum(n), sum(alarm_n), max(lel_pct_max)
FROM {} WHERE kind = 'gas' GROUP BY 1, 2 ORDER BY 1, 2"""


def _gas(device: str, start: datetime, levels: list[float], seq: int) -> list[tuple[object, ...]]:
    """One reading a minute from `start`; alarm from 20 % LEL, the valve closed from then on."""
    rows: list[tuple[object, ...]] = []
    closed = False
    for n, lel in enumerate(levels):
        ts = start + timedelta(minutes=n)
        closed = closed or lel >= 20
        rows.append((ts, ts + timedelta(milliseconds=300), device, "gas", "V-SHOP", seq + n, lel,
                     lel >= 20, "closed" if closed else "open"))  # fmt: skip
    return rows


def test_the_rollup_keeps_the_gas_concentration(fresh_db: str) -> None:
    """`lel_pct_max` (declared `Rollup.MAX` in kernel.kinds) is rolled up per device and hour,
    takes the greater of a late reading and what is stored, and the detector's alarms count in
    `alarm_n`; the view gives the same before and after a refresh."""
    seed_registry(fresh_db, GAS_DEVICES)
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=5)
    leak = [1.0] * 30 + [5.0, 12.0, 21.5, 33.0, 47.5, 38.0, 24.0, 15.0, 6.0] + [2.0] * 81
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        copy_gas_readings(
            conn, _gas("GAS-1", start, leak, 0) + _gas("GAS-2", start, [0.5] * 120, 0)
        )
        raw = conn.execute(_RAW_GAS).fetchall()
        assert conn.execute(_ROLLED_GAS.format("reading_hourly")).fetchall() == raw
        assert refresh(conn, NOW, ZONE, S).readings == 240
        assert conn.execute(_ROLLED_GAS.format("rollup_reading_hour")).fetchall() == raw
        hour = [r for r in raw if r[0] == "GAS-1" and r[1] == start]
        assert [(n, alarms, peak) for _, _, n, alarms, peak in hour] == [(60, 5, 47.5)]
        # late readings: a higher peak in an hour already rolled up, a lower one in another
        late = _gas("GAS-1", start + timedelta(minutes=50, seconds=30), [62.0, 40.0], 1000)
        late += _gas("GAS-2", start + timedelta(hours=1, seconds=30), [0.2], 1000)
        copy_gas_readings(conn, late)
        assert conn.execute(_ROLLED_GAS.format("reading_hourly")).fetchall() == (
            conn.execute(_RAW_GAS).fetchall()
        )
        assert refresh(conn, NOW, ZONE, S).readings == 3
        rolled = conn.execute(_ROLLED_GAS.format("rollup_reading_hour")).fetchall()
        assert rolled == conn.execute(_RAW_GAS).fetchall()
        peaks = {(d, b): peak for d, b, _, _, peak in rolled}
        assert peaks[("GAS-1", start)] == 62.0
        assert peaks[("GAS-2", start + timedelta(hours=1))] == 0.5
        _assert_matches_raw(conn)
