"""The database stops for 20 s during a flood: nothing is lost, and memory stays bounded."""

from __future__ import annotations

import secrets
import time
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest

from firewatch.db.migrate import migrate
from firewatch.embedded.postgres import start_postgres
from tests.ingest.seed import seed_registry
from tests.reliability.engine_process import EngineProcess
from tests.reliability.flood import Flood
from tests.support.mosquitto import PrivateMosquitto

DEVICES = {f"OUT-{n:03d}": ("smoke", "V-HOME") for n in range(40)}
TOTAL = 30_000
OUTAGE_S = 20


def count(url: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT count(*) FROM reading").fetchone()
    assert row is not None
    return int(row[0])


@pytest.mark.slow
def test_database_down_for_20_s_during_a_flood_loses_nothing(
    engine_broker: PrivateMosquitto, tmp_path: Path
) -> None:
    server = start_postgres(tmp_path / "pg")
    engine = EngineProcess(
        server.url, engine_broker.url, f"fw-out-{secrets.token_hex(3)}", tmp_path
    )
    try:
        with psycopg.connect(server.url, autocommit=True) as conn:
            migrate(conn, datetime.now(UTC).date())
        seed_registry(server.url, DEVICES)
        engine.start()
        flood = Flood(engine_broker.port, list(DEVICES), TOTAL, rate=1500)
        flood.start()
        while count(server.url) < 2000:
            time.sleep(0.05)
        before_mb = engine.rss_mb()
        server.stop()
        peak_mb = before_mb
        down_until = time.monotonic() + OUTAGE_S
        while time.monotonic() < down_until:
            peak_mb = max(peak_mb, engine.rss_mb())
            assert engine.process is not None and engine.process.poll() is None, engine.log_tail()
            time.sleep(0.25)
        server = start_postgres(tmp_path / "pg")
        flood.check()
        deadline = time.monotonic() + 60
        while count(server.url) < TOTAL and time.monotonic() < deadline:
            time.sleep(0.1)
        with psycopg.connect(server.url) as conn:
            rows = conn.execute(
                "SELECT count(*), count(DISTINCT (device_id, seq)) FROM reading"
            ).fetchone()
        assert rows == (TOTAL, TOTAL), engine.log_tail()
        # The engine keeps what it received but stops taking more: no growth with the backlog.
        assert peak_mb - before_mb < 100, f"RSS grew from {before_mb:.0f} to {peak_mb:.0f} MB"
        assert "retrying" in (tmp_path / "engine-1.log").read_text()
    finally:
        engine.stop()
        server.stop()
