"""Fixtures for ingest tests: a small registry in a fresh database, an engine broker, a pipeline."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import psycopg
import pytest

from firewatch.ingest.decode import DecodeLimits
from firewatch.ingest.pipeline import IngestPipeline, IngestSettings
from firewatch.ingest.stream import Collector
from firewatch.ingest.subscribe import Subscriber
from firewatch.kernel.broker import BrokerAddress
from firewatch.kernel.clock import SystemClock
from tests.ingest.seed import seed_registry
from tests.support.mosquitto import PrivateMosquitto


@pytest.fixture
def registry_db(fresh_db: str) -> str:
    seed_registry(fresh_db)
    return fresh_db


@dataclass
class RunningPipeline:
    pipeline: IngestPipeline
    collector: Collector
    stop: threading.Event
    thread: threading.Thread
    client_id: str

    def halt(self) -> None:
        self.stop.set()
        self.thread.join(30)
        assert not self.thread.is_alive(), "the ingest loop did not drain and stop"


def start_pipeline(
    db_url: str, broker: BrokerAddress, client_id: str, *, batch_size: int = 500
) -> tuple[RunningPipeline, Subscriber]:
    clock = SystemClock()
    subscriber = Subscriber(broker, client_id, clock, session_expiry_s=600, capacity=10_000)
    subscriber.__enter__()
    collector = Collector()
    pipeline = IngestPipeline(
        subscriber,
        lambda: psycopg.connect(db_url),
        clock,
        IngestSettings(
            batch_size,
            0.05,
            DecodeLimits(300, 7 * 86400),
            registry_refresh_s=0.5,
            liveness_sweep_s=0.5,
        ),
        [collector],
    )
    stop = threading.Event()
    thread = threading.Thread(target=pipeline.run, args=(stop,), daemon=True)
    thread.start()
    return RunningPipeline(pipeline, collector, stop, thread, client_id), subscriber


@pytest.fixture
def running_pipeline(
    registry_db: str, engine_broker: PrivateMosquitto
) -> Iterator[RunningPipeline]:
    broker = BrokerAddress("127.0.0.1", engine_broker.port, None, None, tls=False)
    running, subscriber = start_pipeline(registry_db, broker, f"fw-test-{secrets.token_hex(4)}")
    try:
        yield running
    finally:
        running.halt()
        subscriber.__exit__(None, None, None)
