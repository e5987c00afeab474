"""`firewatch run` as an operator starts it: health, metrics, a clean stop."""

from __future__ import annotations

import secrets
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import psycopg

from firewatch.kernel import topics
from tests.ingest.publish import publish_all
from tests.ingest.seed import seed_registry
from tests.reliability.engine_process import EngineProcess
from tests.support.mosquitto import PrivateMosquitto


def test_run_serves_health_and_metrics_and_stops_cleanly(
    fresh_db: str, engine_broker: PrivateMosquitto, tmp_path: Path
) -> None:
    seed_registry(fresh_db)
    engine = EngineProcess(fresh_db, engine_broker.url, f"fw-run-{secrets.token_hex(3)}", tmp_path)
    try:
        engine.start()
        base = f"http://127.0.0.1:{engine.api_port}"
        health = httpx.get(f"{base}/healthz").json()
        assert health == {
            "status": "ok",
            "stages": {
                "ingest": "ok",
                "broker": "ok",
                "rules": "ok",
                "risk": "ok",
                "cases": "ok",
                "alerting": "ok",
                "evaluation": "ok",
            },
        }
        ts = int(datetime.now(UTC).timestamp() * 1000)
        publish_all(
            engine_broker.port,
            [
                (
                    topics.reading("smoke", "SMK-1"),
                    {"ts": ts, "seq": 1, "smoke_obs": 0.1, "alarm": False},
                ),
                (
                    topics.reading("smoke", "NOBODY"),
                    {"ts": ts, "seq": 1, "smoke_obs": 0.1, "alarm": False},
                ),
            ],
        )
        deadline = time.monotonic() + 10
        text = ""
        while time.monotonic() < deadline:
            text = httpx.get(f"{base}/metrics").text
            if 'firewatch_ingest_rejected_total{reason="unknown_device"} 1.0' in text:
                break
            time.sleep(0.1)
        assert 'firewatch_ingest_stored_total{table="Reading"} 1.0' in text
        assert 'firewatch_ingest_rejected_total{reason="unknown_device"} 1.0' in text
        assert "firewatch_ingest_commit_seconds_bucket" in text
        assert engine.terminate() == 0
        assert "ingest drained" in engine.log_tail()
    finally:
        engine.stop()


def test_run_on_an_unmigrated_database_says_what_to_do(empty_db: str, tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "firewatch.cli", "run"],
        env={
            "FIREWATCH_DATABASE_URL": empty_db,
            "FIREWATCH_MQTT_URL": "mqtt://127.0.0.1:1883",
            "PATH": "/usr/bin:/bin",
        },
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        check=False,
    )
    assert result.returncode == 1
    assert "run `firewatch db migrate`" in result.stderr
    with psycopg.connect(empty_db) as conn:
        assert conn.execute(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
        ).fetchone() == (0,)
