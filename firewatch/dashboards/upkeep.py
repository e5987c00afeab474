"""The engine's rollup task: `refresh` every minute on its own connection, until stopped.

Started by the composition root (`firewatch/engine.py`) as a daemon thread beside the
readings-partition upkeep. Several engine processes may each run it: the refresh lock lets one
work at a time and the others skip their turn.
"""

from __future__ import annotations

import logging
import threading

import psycopg
from prometheus_client import Counter, Gauge, Histogram

from firewatch.dashboards.errors import RollupError
from firewatch.dashboards.rollups import Outcome, RollupSettings, refresh
from firewatch.kernel.clock import Clock

log = logging.getLogger("firewatch.dashboards")

REFRESH_SECONDS = Histogram(
    "firewatch_rollup_refresh_seconds",
    "Time to roll up the readings stored since the last refresh",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 120),
)
REFRESHES = Counter("firewatch_rollup_refreshes_total", "Rollup refreshes", ["outcome"])
READINGS = Counter("firewatch_rollup_readings_total", "Readings added to the rollups")
BEHIND_SECONDS = Gauge(
    "firewatch_rollup_behind_seconds", "From the rollups' watermark to the engine's time"
)


def keep_rollups(
    url: str,
    clock: Clock,
    zone: str,
    stop: threading.Event,
    *,
    every_s: float = 60.0,
    settings: RollupSettings | None = None,
) -> None:
    """Refresh until `stop` is set; database trouble is logged and retried next turn."""
    while not stop.is_set():
        try:
            # no server-side prepared statements: each window is planned with its own bounds
            with psycopg.connect(url, autocommit=True, prepare_threshold=None) as conn:
                while not stop.is_set():
                    if not _turn(conn, clock, zone, settings):
                        return
                    stop.wait(every_s)
        except (psycopg.Error, RollupError) as exc:
            log.warning("rollup refresh failed, will retry: %s", exc)
            stop.wait(every_s)


def _turn(
    conn: psycopg.Connection, clock: Clock, zone: str, settings: RollupSettings | None
) -> bool:
    """One refresh; False when there is nothing for this task to do on this store."""
    started = clock.monotonic()
    report = refresh(conn, clock.now(), zone, settings)
    REFRESHES.labels(report.outcome.value).inc()
    if report.outcome is Outcome.CONTINUOUS_AGGREGATES:
        log.info("rollups are TimescaleDB continuous aggregates: their policies refresh them")
        return False
    REFRESH_SECONDS.observe(clock.monotonic() - started)
    READINGS.inc(report.readings)
    if report.stored_until is not None:
        BEHIND_SECONDS.set((clock.now() - report.stored_until).total_seconds())
    if report.ignored_writers:
        log.warning(
            "rollups did not wait for %d transaction(s) open longer than %s; readings they"
            " store later are not rolled up (dashboards.rollups.reset rebuilds)",
            report.ignored_writers,
            (settings or RollupSettings()).writer_wait_cap,
        )
    if report.readings:
        log.debug("rolled up %d readings stored until %s", report.readings, report.stored_until)
    return True
