"""With nothing configured, the commands start embedded services and work against them."""

from __future__ import annotations

import secrets
import threading
import time
from pathlib import Path

import psycopg
import pytest

from firewatch import cli
from firewatch.embedded import start_broker, start_postgres
from firewatch.ingest.decode import DecodeLimits
from firewatch.ingest.pipeline import IngestPipeline, IngestSettings
from firewatch.ingest.stream import Collector
from firewatch.ingest.subscribe import Subscriber
from firewatch.kernel import topics
from firewatch.kernel.broker import BrokerAddress
from firewatch.kernel.clock import SystemClock
from tests.ingest.publish import publish_all
from tests.ingest.seed import seed_registry
from tests.support.ports import free_port


@pytest.fixture
def nothing_configured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("FIREWATCH_DATABASE_URL", "FIREWATCH_MQTT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("FIREWATCH_GENERAL__DATA_DIR", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)  # no firewatch.toml here
    return tmp_path / "data"


def test_db_migrate_starts_embedded_postgres_and_migrates_it(
    nothing_configured: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["db", "migrate"]) == 0
    assert "starting embedded PostgreSQL in" in capsys.readouterr().err
    assert cli.main(["db", "migrate"]) == 0
    assert "nothing (schema is up to date)" in capsys.readouterr().err
    with (
        start_postgres(nothing_configured / "postgres") as server,
        psycopg.connect(server.url) as conn,
    ):
        tables = {
            t for (t,) in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname='public'")
        }
    assert {"reading", "device", "rejected_message"} <= tables


def test_demo_runs_on_embedded_services(
    nothing_configured: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FIREWATCH_API_BIND", f"127.0.0.1:{free_port()}")
    assert cli.main(["demo", "--no-wait", "--speed", "900", "--scenario", "flaming_fire"]) == 0
    out = capsys.readouterr().out
    assert "firewatch demo is up" in out
    assert "registry   stations:" in out
    assert "outcome against ground truth: 1 as expected, 0 wrong" in out, out
    assert any(line.split()[:2] == ["ok", "flaming_fire"] for line in out.splitlines()), out


def test_ingest_carries_a_message_through_the_python_broker(tmp_path: Path, fresh_db: str) -> None:
    # amqtt speaks MQTT 3.1.1 only: the subscription must fall back to a clean-session-off
    # 3.1.1 session there.
    seed_registry(fresh_db)
    with start_broker(tmp_path / "amqtt", prefer_mosquitto=False) as broker:
        assert broker.kind == "amqtt"
        address = BrokerAddress(broker.host, broker.port, None, None, tls=False, mqtt5=False)
        clock = SystemClock()
        collector = Collector()
        with Subscriber(address, f"fw-{secrets.token_hex(3)}", clock, session_expiry_s=600,
                        capacity=1000) as subscriber:  # fmt: skip
            pipeline = IngestPipeline(
                subscriber,
                lambda: psycopg.connect(fresh_db),
                clock,
                IngestSettings(100, 0.05, DecodeLimits(300, 86400)),
                [collector],
            )
            stop = threading.Event()
            thread = threading.Thread(target=pipeline.run, args=(stop,))
            thread.start()
            now_ms = int(time.time() * 1000)
            publish_all(broker.port, [(topics.reading("smoke", "SMK-1"),
                                       {"ts": now_ms, "seq": 1, "smoke_obs": 0.3, "alarm": False})])  # fmt: skip
            deadline = time.monotonic() + 10
            while not collector.records and time.monotonic() < deadline:
                time.sleep(0.05)
            stop.set()
            thread.join(10)
    assert len(collector.records) == 1
    with psycopg.connect(fresh_db) as conn:
        assert conn.execute("SELECT smoke_obs FROM reading").fetchone() == (pytest.approx(0.3),)
