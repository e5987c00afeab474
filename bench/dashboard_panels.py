"""Dashboards over a month of data: every panel's query, p95, with rollups and without.

    python bench/dashboard_panels.py [--quick] [--days 30] [--devices 2000] [--runs 20]

One run, one machine, a scratch database on the local PostgreSQL (embedded if none):
1. data: the sample subdistrict's registry (373 venues, 2,950 devices) through the importer;
   `--days` of readings from `--devices` of its devices at their quiet rates (smoke detectors
   and charging ports every minute, presence sensors every 5 minutes), written in time order
   with INSERT ... SELECT generate_series, one day's partition at a time (built apart, indexed,
   attached; unlogged, as a scratch database may be), and around them what the other stages
   store: device risk scores every 15 minutes, venue and community scores, device events,
   alerts, hazard cases with parts and listings, inspections, liveness, rejected messages.
2. rollups: the first refresh (a backfill of everything) and then the incremental one the
   engine runs every minute, after a minute of new readings from every device.
3. panels: every panel of every board, over its board's default range and over the whole
   month, `--runs` times after one warm-up; variables as Grafana sends them with All selected
   (the venue drill-down on the venue with the most devices); p95 per panel and range.
4. baseline, in the same run: the panels that read a rollup, run against row-level views of
   the raw readings under the same names (what the panels would cost without rollups).
`--quick` writes 1 day of 500 devices and runs each query 5 times (the baseline once), to
finish in under a minute. The last line of output
is one JSON object with the figures, `worst_panel_p95_ms` among them.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg
from psycopg import sql

from bench._support import postgres_server, scratch_database
from firewatch.dashboards.boards import all_boards
from firewatch.dashboards.boards.venue import RAW_UP_TO
from firewatch.dashboards.macros import parse_duration
from firewatch.dashboards.model import Board
from firewatch.dashboards.probe import resolve_variables, run_panel
from firewatch.dashboards.rollups import RollupSettings, refresh
from firewatch.db.partitions import partition_name
from firewatch.registry import import_registry
from firewatch.simulators import registry_files
from firewatch.simulators.subdistrict import generate

ZONE = "Asia/Shanghai"
RAW_SPAN = parse_duration(RAW_UP_TO.replace(" hours", "h"))
ROLLUPS = ("reading_hourly", "reading_daily", "ingest_minute")
SETTLE = RollupSettings(settle=timedelta(0))


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


DEVICES_SQL = """CREATE TABLE bench_device AS
SELECT device_id, kind, venue_id, CASE kind WHEN 'occupancy' THEN 300 ELSE 60 END AS every_s,
       (abs(hashtext(device_id)) %% 60) AS offset_s
FROM device WHERE kind <> 'elevator' ORDER BY hashtext(device_id || 'bench') LIMIT %(n)s"""

# One partition's readings, in time order: every minute, every device due in it.
READINGS_SQL = """INSERT INTO {table} (ts, received_at, device_id, kind, venue_id, seq, smoke_obs,
    temp_c, co_ppm, humidity_pct, alarm, port, state, current_a, voltage_v, power_w, occupied,
    people, still_minutes)
SELECT r.ts, r.ts + (150 + random() * 850) * interval '1 ms', r.device_id, r.kind, r.venue_id,
       (extract(epoch FROM r.ts)::bigint / r.every_s),
       CASE WHEN r.kind = 'smoke' THEN (CASE WHEN random() < 0.0005 THEN 1 + random() * 4
                                             ELSE random() * 0.05 END)::real END,
       CASE WHEN r.kind = 'smoke' THEN (21 + 3 * sin(r.h / 3.82) + random())::real
            WHEN r.kind = 'charging' THEN (24 + r.load / 40 + random())::real END,
       CASE WHEN r.kind = 'smoke' THEN (random() * 3)::real END,
       CASE WHEN r.kind = 'smoke' THEN (50 + random() * 15)::real END,
       CASE WHEN r.kind = 'smoke' THEN false END,
       CASE WHEN r.kind = 'charging' THEN 1 + (extract(epoch FROM r.ts)::bigint / 60) %% 4 END,
       CASE WHEN r.kind = 'charging' THEN CASE WHEN r.load > 0 THEN 'charging' ELSE 'idle' END END,
       CASE WHEN r.kind = 'charging' THEN (r.load / 220)::real END,
       CASE WHEN r.kind = 'charging' THEN 220::real END,
       CASE WHEN r.kind = 'charging' THEN r.load::real END,
       CASE WHEN r.kind = 'occupancy' THEN r.night END,
       CASE WHEN r.kind = 'occupancy' THEN CASE WHEN r.night THEN 1 + (random() * 2)::int ELSE 0 END END,
       CASE WHEN r.kind = 'occupancy' THEN CASE WHEN r.night THEN (random() * 300)::int ELSE 0 END END
FROM generate_series(%(start)s::timestamptz, %(end)s::timestamptz, interval '1 minute') AS m(minute),
LATERAL (
    SELECT b.*, m.minute + b.offset_s * interval '1 second' AS ts,
           extract(hour FROM m.minute AT TIME ZONE 'Asia/Shanghai') AS h,
           extract(hour FROM m.minute AT TIME ZONE 'Asia/Shanghai') NOT BETWEEN 7 AND 21 AS night,
           CASE WHEN b.kind = 'charging' AND random() < 0.35 THEN 150 + random() * 250 ELSE 0 END
               AS load
    FROM bench_device b
    WHERE b.every_s = 60 OR extract(epoch FROM m.minute)::bigint %% b.every_s = 0
) r
WHERE r.ts >= %(start)s AND r.ts < %(end)s"""  # noqa: E501

CONTEXT_SQL = [
    # device scores every 15 minutes while they report; venues and communities beside them
    """INSERT INTO risk_score (at, scope, subject_id, venue_id, community, score, level, basis,
        reasons)
    SELECT t, 'device', b.device_id, b.venue_id, v.community, s, 'blue', 'fusion', '[]'
    FROM generate_series(%(start)s::timestamptz, %(now)s, interval '15 minutes') t,
         bench_device b JOIN venue v USING (venue_id),
         LATERAL (SELECT (random() * 30)::int AS s) x""",
    """INSERT INTO risk_score (at, scope, subject_id, venue_id, community, score, level, basis,
        reasons)
    SELECT t, 'venue', v.venue_id, v.venue_id, v.community, s,
           CASE WHEN s >= 75 THEN 'orange' WHEN s >= 50 THEN 'yellow' ELSE 'blue' END, 'fusion',
           '[]'
    FROM generate_series(%(start)s::timestamptz, %(now)s, interval '15 minutes') t, venue v,
         LATERAL (SELECT (random() * random() * 90)::int AS s) x""",
    """INSERT INTO risk_score (at, scope, subject_id, venue_id, community, score, level, basis,
        reasons)
    SELECT t, 'community', c.community, NULL, c.community, (10 + random() * 50)::int, 'blue',
           'fusion', '[]'
    FROM generate_series(%(start)s::timestamptz, %(now)s, interval '15 minutes') t,
         (SELECT DISTINCT community FROM venue) c""",
    # events: charging sessions, lift cameras, now and then a detector's trouble
    """INSERT INTO device_event (ts, received_at, device_id, kind, venue_id, seq, event, port,
        car, floor, confidence, blocked)
    SELECT ts, ts + interval '400 ms', d.device_id, d.kind, d.venue_id, n, e.event,
           CASE WHEN d.kind = 'charging' THEN 1 END, CASE WHEN d.kind = 'elevator' THEN 'A' END,
           CASE WHEN d.kind = 'elevator' THEN 1 + n %% 20 END,
           CASE WHEN d.kind = 'elevator' THEN 0.9 END, CASE WHEN d.kind = 'elevator' THEN true END
    FROM device d,
         LATERAL generate_series(1, (%(days)s * CASE d.kind WHEN 'charging' THEN 6
             WHEN 'elevator' THEN 10 WHEN 'smoke' THEN 0.1 ELSE 0 END)::int) n,
         LATERAL (SELECT %(start)s::timestamptz + random() * (%(now)s::timestamptz - %(start)s)
                  AS ts) t,
         LATERAL (SELECT CASE d.kind WHEN 'charging' THEN (ARRAY['charge_started',
             'charge_completed', 'overtemp'])[1 + n %% 3] WHEN 'elevator' THEN 'ebike_detected'
             ELSE (ARRAY['tamper', 'fault', 'low_battery', 'test'])[1 + n %% 4] END AS event) e""",
    """INSERT INTO device_liveness (device_id, last_seen_at, last_device_ts, online, offline_since,
        offline_reason, battery_pct, rssi_dbm, fw, status_at)
    SELECT device_id, %(now)s - interval '1 minute', %(now)s - interval '1 minute', n %% 40 <> 0,
           CASE WHEN n %% 40 = 0 THEN %(now)s - interval '3 hours' END,
           CASE WHEN n %% 40 = 0 THEN 'heartbeat_missed' END,
           CASE WHEN n %% 37 = 0 THEN 12 ELSE 40 + random() * 60 END, -60 - random() * 40,
           'v1.4.2', %(now)s - interval '5 minutes'
    FROM (SELECT device_id, row_number() OVER (ORDER BY device_id) AS n FROM device) d""",
    """INSERT INTO rejected_message (received_at, topic, payload, reason, detail)
    SELECT %(start)s::timestamptz + random() * (%(now)s::timestamptz - %(start)s),
           'fw/v1/smoke/X/reading',
           '\\x7b7d'::bytea, (ARRAY['unknown_device', 'bad_json', 'invalid_field',
           'clock_skew'])[1 + n %% 4], 'bench'
    FROM generate_series(1, %(days)s * 2500) n""",
    """INSERT INTO venue_scan (ts, received_at, venue_id, seq, scan_type, inspector, items)
    SELECT ts, ts, v.venue_id, n, CASE WHEN n = 0 THEN 'inspection' ELSE 'self_check' END,
           'INSP-1', '[{"item": "evacuation_clear", "ok": true}]'
    FROM venue v, generate_series(0, CASE WHEN v.category = 2 THEN %(days)s ELSE 0 END) n,
         LATERAL (SELECT %(now)s::timestamptz - random() * interval '200 days' AS ts) t""",
]  # fmt: skip


def _fill_day(url: str, start: datetime, end: datetime) -> int:
    """One day's partition: built apart (unlogged), indexed as the parent is, attached."""
    name = partition_name(start.date())
    table = sql.Identifier(name)
    low = start.replace(hour=0, minute=0, second=0, microsecond=0)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SET maintenance_work_mem = '256MB'")
        conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(table))
        conn.execute(
            sql.SQL("CREATE UNLOGGED TABLE {} (LIKE reading INCLUDING DEFAULTS)").format(table)
        )
        rows = conn.execute(
            sql.SQL(READINGS_SQL).format(table=table), {"start": start, "end": end}
        ).rowcount
        for ddl in (
            "CREATE UNIQUE INDEX ON {} (device_id, ts, seq)",
            "CREATE INDEX ON {} (venue_id, ts)",
            "CREATE INDEX ON {} USING brin (stored_at) WITH (pages_per_range = 32, autosummarize = on)",  # noqa: E501
            "ALTER TABLE {} ADD CHECK (ts IS NOT NULL AND ts >= {} AND ts < {})",
        ):
            conn.execute(
                sql.SQL(ddl).format(table, sql.Literal(low), sql.Literal(low + timedelta(days=1)))
            )
        conn.execute(
            sql.SQL("ALTER TABLE reading ATTACH PARTITION {} FOR VALUES FROM ({}) TO ({})").format(
                table, sql.Literal(low), sql.Literal(low + timedelta(days=1))
            )
        )
    return rows


def generate_data(url: str, tmp: Path, devices: int, days: int, now: datetime) -> dict[str, Any]:
    started = time.monotonic()
    paths = registry_files.write(generate(1), tmp / "registry")
    with psycopg.connect(url) as conn:
        import_registry([paths[0]], conn)
        conn.execute(DEVICES_SQL, {"n": devices})
    first = now - timedelta(days=days)
    spans, day = [], first
    while day < now:
        end = min(day.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1), now)
        spans.append((day, end))
        day = end
    with ThreadPoolExecutor(max_workers=2) as pool:
        readings = sum(pool.map(lambda span: _fill_day(url, *span), spans))
    say(f"  {readings:,} readings in {time.monotonic() - started:.0f} s; the other stages' rows")
    with psycopg.connect(url, autocommit=True) as conn:
        for statement in CONTEXT_SQL:
            conn.execute(statement, {"start": first, "now": now, "days": days})
        _alerts_and_cases(conn, now, days)
        say("  VACUUM ANALYZE (what autovacuum does in production)")
        conn.execute("VACUUM (ANALYZE) reading")
        conn.execute("ANALYZE")
    return {"readings": readings, "generate_s": round(time.monotonic() - started, 1)}


def _alerts_and_cases(conn: psycopg.Connection, now: datetime, days: int) -> None:
    """About 25 alerts and 30 hazard cases a day, the recent ones still open."""
    conn.execute(
        """INSERT INTO alert (alert_id, venue_id, kind, level, state, policy, opened_at,
            confirmed_at, acked_at, resolved_at, resolution, summary, last_signal_at)
        SELECT 'AL-' || n, v.venue_id, 'fire',
               (ARRAY['red', 'orange', 'yellow', 'blue'])[1 + n %% 4],
               CASE WHEN n <= 12 THEN (ARRAY['pending', 'confirmed', 'acknowledged'])[1 + n %% 3]
                    ELSE 'resolved' END, 'persistence', t, t + interval '40 s',
               CASE WHEN n > 12 OR n %% 3 = 2 THEN t + interval '3 min' END,
               CASE WHEN n > 12 THEN t + interval '30 min' END, CASE WHEN n > 12 THEN 'cleared' END,
               'bench', t
        FROM generate_series(1, %(days)s * 25) n
        JOIN LATERAL (SELECT venue_id FROM venue ORDER BY venue_id OFFSET n %% 373 LIMIT 1) v
            ON true,
        LATERAL (SELECT %(now)s::timestamptz - n * interval '1 hour' * 24 / 25 AS t) x""",
        {"now": now, "days": days},
    )  # fmt: skip
    conn.execute(
        """INSERT INTO hazard_case (case_id, kind, venue_id, community, grid, station_id, hazard,
            source, stage, opened_at, due_at, closed_at, supervision, last_found_at, version)
        SELECT 'HC-' || n, 'hazard', v.venue_id, v.community, v.grid, v.station_id, 'hz-' || n,
               'scan', s.stage, t, t + interval '7 days',
               CASE WHEN s.stage = 'closed' THEN t + random() * interval '6 days' END,
               CASE WHEN n %% 29 = 0 AND s.stage <> 'closed' THEN 'street' ELSE 'none' END, t, 1
        FROM generate_series(1, %(days)s * 30) n
        JOIN LATERAL (SELECT * FROM venue ORDER BY venue_id OFFSET n %% 373 LIMIT 1) v ON true,
        LATERAL (SELECT %(now)s::timestamptz - n * interval '48 min' AS t) x,
        LATERAL (SELECT CASE WHEN t < %(now)s::timestamptz - interval '10 days' AND n %% 5 <> 0
                 THEN 'closed' ELSE (ARRAY['reported', 'registered', 'dispatched', 'handling',
                 'verifying'])[1 + n %% 5] END AS stage) s""",
        {"now": now, "days": days},
    )  # fmt: skip
    conn.execute(
        """INSERT INTO case_part (case_id, department, state, assigned_at, done_at)
        SELECT case_id, (ARRAY['police_station', 'market_supervision',
                              'law_enforcement'])[1 + abs(hashtext(case_id)) % 3],
               CASE WHEN stage = 'closed' THEN 'done' ELSE 'accepted' END, opened_at, closed_at
        FROM hazard_case WHERE stage IN ('dispatched', 'handling', 'verifying', 'closed')"""
    )  # fmt: skip
    conn.execute(
        """INSERT INTO case_listing (case_id, level, state, reason, proposed_at)
        SELECT case_id, 'street', 'listed', 'overdue', opened_at FROM hazard_case
        WHERE supervision = 'street'"""
    )


def measure_rollups(url: str, now: datetime) -> dict[str, Any]:
    """The backfill, then the engine's minute: one reading from every device, one refresh."""
    with psycopg.connect(url, autocommit=True, prepare_threshold=None) as conn:
        started = time.monotonic()
        first = refresh(conn, now, ZONE, SETTLE)
        backfill = time.monotonic() - started
        conn.execute(
            "VACUUM (ANALYZE) rollup_reading_hour, rollup_reading_day, rollup_ingest_minute"
        )
        timings = []
        for minute in range(5):
            at = now + timedelta(minutes=minute)
            conn.execute(
                """INSERT INTO reading (ts, received_at, device_id, kind, venue_id, seq, temp_c)
                SELECT %(at)s::timestamptz + offset_s * interval '1 s',
                       %(at)s::timestamptz + offset_s * interval '1 s' + interval '300 ms',
                       device_id, kind, venue_id, 10000000 + %(m)s, 22 FROM bench_device""",
                {"at": at, "m": minute},
            )
            started = time.monotonic()
            refresh(conn, at, ZONE, SETTLE)
            timings.append((time.monotonic() - started) * 1000)
    return {
        "rollup_backfill_s": round(backfill, 1),
        "rollup_backfill_readings": first.readings,
        "rollup_refresh_ms": round(statistics.median(timings), 1),
    }


def _p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def _board_span(board: Board) -> timedelta:
    return parse_duration(board.time_from.removeprefix("now-"))


def time_panels(
    url: str, now: datetime, runs: int, baseline: bool = False, timeout_s: int = 60
) -> dict[str, float]:
    """p95 milliseconds per `board/panel@range`; with `baseline`, only rollup panels, on raw."""
    results: dict[str, float] = {}
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"SET statement_timeout = '{timeout_s}s'")
        if baseline:
            conn.execute("SET search_path = bench_raw, public")
        focus = conn.execute(
            "SELECT venue_id, community FROM bench_device JOIN venue USING (venue_id)"
            " GROUP BY 1, 2 ORDER BY count(*) DESC, 1 LIMIT 1"
        ).fetchone()
        assert focus is not None
        for board in all_boards(ZONE):
            variables = resolve_variables(
                conn, board, now, {"venue": focus[0], "community": focus[1]}
            )
            for panel in board.panels:
                if baseline and not set(panel.tables) & set(ROLLUPS):
                    continue
                for span in sorted({_board_span(board), timedelta(days=30)}):
                    if baseline and "reading" in panel.tables and span <= RAW_SPAN:
                        continue  # the drill-down reads raw rows up to 26 hours either way
                    key = f"{board.uid}/{panel.key}@{span.days}d" if span.days else \
                        f"{board.uid}/{panel.key}@{span.seconds // 3600}h"  # fmt: skip
                    samples = []
                    for _ in range(runs + 1):
                        started = time.perf_counter()
                        try:
                            run_panel(conn, panel, now - span, now, variables)
                        except psycopg.errors.QueryCanceled:
                            samples.append(timeout_s * 1000.0)
                            break
                        samples.append((time.perf_counter() - started) * 1000)
                    results[key] = round(_p95(samples[1:] or samples), 1)
                    say(f"  {key:48} p95 {results[key]:9.1f} ms")
    return results


# Row-level stand-ins for the rollups, under the same names: every reading is its own "bucket",
# so each panel's own aggregation gives its answer, and the time filter still prunes partitions.
BASELINE_SQL = [
    "CREATE SCHEMA bench_raw",
    """CREATE VIEW bench_raw.reading_hourly AS SELECT venue_id, device_id, ts AS bucket, kind,
        1 AS n, alarm::int AS alarm_n, smoke_obs AS smoke_obs_max, temp_c::float8 AS temp_c_sum,
        (temp_c IS NOT NULL)::int AS temp_c_n, temp_c AS temp_c_max, co_ppm AS co_ppm_max,
        power_w AS power_w_max, still_minutes AS still_minutes_max FROM public.reading""",
    """CREATE VIEW bench_raw.reading_daily AS SELECT date_trunc('day', ts, 'Asia/Shanghai') AS day,
        venue_id, device_id, kind, 1 AS n FROM public.reading""",
    """CREATE VIEW bench_raw.ingest_minute AS SELECT ts AS bucket, kind, 1 AS n,
        date_part('epoch', received_at - ts) * 1000 AS lag_ms_sum,
        date_part('epoch', received_at - ts) * 1000 AS lag_ms_max FROM public.reading""",
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="1 day of 500 devices, 5 runs each (under a minute)"
    )
    parser.add_argument("--days", type=int, help="days of readings (default 30, --quick 1)")
    parser.add_argument("--devices", type=int, help="devices (default 2000, --quick 500)")
    parser.add_argument("--runs", type=int, help="timed runs per query (default 20, --quick 5)")
    parser.add_argument("--baseline-runs", type=int, help="(default 2, --quick 1)")
    args = parser.parse_args()
    days = args.days or (1 if args.quick else 30)
    runs = args.runs or (5 if args.quick else 20)
    args.devices = args.devices or (500 if args.quick else 2000)
    args.baseline_runs = args.baseline_runs or (1 if args.quick else 2)
    now = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=10)
    with (
        tempfile.TemporaryDirectory(prefix="fw-bench-") as tmp,
        postgres_server(Path(tmp)) as server,
        scratch_database(server, "dash") as url,
    ):
        say(f"data: {days} days of readings from {args.devices} devices")
        data = generate_data(url, Path(tmp), args.devices, days, now)
        say("rollups: backfill, then one minute of readings and the engine's refresh")
        rollups = measure_rollups(url, now)
        say(f"  {rollups}")
        say(f"panels: p95 of {runs} runs, default range and 30 days")
        panels = time_panels(url, now, runs)
        say(f"baseline: the rollup panels on raw readings, p95 of {args.baseline_runs} runs")
        with psycopg.connect(url, autocommit=True) as conn:
            for statement in BASELINE_SQL:
                conn.execute(statement)
        baseline = time_panels(url, now, args.baseline_runs, baseline=True)
    worst = max(panels, key=lambda k: panels[k])
    rolled = {k: v for k, v in panels.items() if k in baseline}
    figures = {
        "days": days,
        "devices": args.devices,
        **data,
        **rollups,
        "panel_queries": len(panels),
        "median_panel_p95_ms": round(statistics.median(panels.values()), 1),
        "rollup_panels_worst_p95_ms": max(rolled.values()),
        "baseline_rollup_panels_worst_p95_ms": max(baseline.values()),
        "baseline_rollup_panels_median_p95_ms": round(statistics.median(baseline.values()), 1),
        "baseline": baseline,
        "panels": panels,
        "quick": args.quick,
        "worst_panel": worst,
        "worst_panel_p95_ms": panels[worst],
    }
    print(json.dumps(figures, ensure_ascii=False))
    return 0 if panels[worst] < 300 else 1


if __name__ == "__main__":
    sys.exit(main())
