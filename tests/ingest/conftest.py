"""Fixtures for ingest tests: a small registry in a fresh database, an engine broker, a pipeline."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import psycopg
import pytest

from firewatch.clock import SystemClock
from firewatch.services import BrokerAddress
from ingest.decode import DecodeLimits
from ingest.pipeline import IngestPipeline, IngestSettings
from ingest.stream import Collector
from ingest.subscribe import Subscriber
from tests.support.mosquitto import PrivateMosquitto, start_private_mosquitto

DEVICES = {
    "SMK-1": ("smoke", "V-HOME"),
    "SMK-2": ("smoke", "V-HOME"),
    "CHG-1": ("charging", "V-SHED"),
    "LIFT-1": ("elevator", "V-TOWER"),
    "OCC-1": ("occupancy", "V-SHOP"),
}


def seed_registry(url: str, devices: dict[str, tuple[str, str]] = DEVICES, heartbeat_s: int = 60) -> None:
    """Stations, venues and devices written straight to the tables: ingest tests need a
    registry, not the importer."""
    with psycopg.connect(url) as conn:
        conn.execute(
            "INSERT INTO station (station_id, name, kind, phones, lat, lon)"
            " VALUES ('MS-1', 'Micro station 1', 'micro', '{+8613800000001}', 31.23, 121.47)"
        )
        for venue_id, venue_type, category in (
            ("V-HOME", "rental_housing", 1),
            ("V-SHED", "ebike_shed", 1),
            ("V-TOWER", "high_rise", 3),
            ("V-SHOP", "small_shop", 2),
        ):
            conn.execute(
                "INSERT INTO venue (venue_id, name, venue_type, category, community, grid, address,"
                " lat, lon, station_id) VALUES (%s, %s, %s, %s, 'Xinhua', 'G-03', 'No. 1 Road',"
                " 31.23, 121.47, 'MS-1')",
                (venue_id, venue_id, venue_type, category),
            )
        for device_id, (kind, venue_id) in devices.items():
            conn.execute(
                "INSERT INTO device (device_id, kind, venue_id, location, heartbeat_s)"
                " VALUES (%s, %s, %s, 'floor 1', %s)",
                (device_id, kind, venue_id, heartbeat_s),
            )


@pytest.fixture
def registry_db(fresh_db: str) -> str:
    seed_registry(fresh_db)
    return fresh_db


@pytest.fixture(scope="session")
def engine_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrivateMosquitto]:
    """A private Mosquitto with the engine's broker configuration (ingest/broker/mosquitto.conf)."""
    with start_private_mosquitto(tmp_path_factory.mktemp("engine-broker")) as broker:
        yield broker


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
            batch_size, 0.05, DecodeLimits(300, 7 * 86400), registry_refresh_s=0.5, liveness_sweep_s=0.5
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

