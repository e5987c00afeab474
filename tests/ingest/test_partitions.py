"""Two engine instances split the venues between them: every message stored exactly once, each
venue wholly in one partition; each instance announces itself with a retained availability."""

from __future__ import annotations

import secrets
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from psycopg import pq

from firewatch.ingest.decode import DecodeLimits
from firewatch.ingest.liveness import sweep
from firewatch.ingest.partition import Partition
from firewatch.ingest.pipeline import IngestPipeline, IngestSettings
from firewatch.ingest.stream import Collector
from firewatch.ingest.subscribe import Subscriber
from firewatch.kernel import topics
from firewatch.kernel.broker import BrokerAddress
from firewatch.kernel.clock import SystemClock
from firewatch.registry import import_registry
from firewatch.simulators import registry_files, subdistrict
from tests.ingest.publish import publish_all
from tests.ingest.seed import DEVICES, seed_registry
from tests.support.mosquitto import PrivateMosquitto
from tests.support.mqtt import MqttTestClient


def test_two_partitions_store_everything_once(
    fresh_db: str, engine_broker: PrivateMosquitto, tmp_path: Path
) -> None:
    world = subdistrict.generate(1)
    registry_files.write(world, tmp_path)
    with psycopg.connect(fresh_db) as conn:
        import_registry([tmp_path / registry_files.JSON_NAME], conn)
    smoke = [d for d in world.devices if d.kind == "smoke"][:300]
    broker = BrokerAddress("127.0.0.1", engine_broker.port, None, None, tls=False)
    clock, stop, run = SystemClock(), threading.Event(), secrets.token_hex(3)
    instances = []
    with MqttTestClient("127.0.0.1", engine_broker.port, client_id=f"watch-{run}") as watcher:
        watcher.subscribe(f"{topics.PREFIX}/engine/+/availability")
        run_topics = {topics.engine_availability(p) for p in ("p1of2", "p2of2")}
        for spec in ("1/2", "2/2"):
            partition = Partition.parse(spec)
            sub = Subscriber(broker, f"fw-{run}-{partition.name}", clock, session_expiry_s=600,
                             capacity=10_000, announce=topics.engine_availability(partition.name))  # fmt: skip
            sub.__enter__()
            collector = Collector()
            pipeline = IngestPipeline(
                sub, lambda: psycopg.connect(fresh_db), clock,
                IngestSettings(500, 0.05, DecodeLimits(300, 86400)), [collector], partition,
            )  # fmt: skip
            thread = threading.Thread(target=pipeline.run, args=(stop,))
            thread.start()
            instances.append((sub, collector, thread))
        online = announced(watcher, run_topics)
        now_ms = int(datetime.now(UTC).timestamp() * 1000)
        messages = [
            (topics.reading("smoke", d.device_id),
             f'{{"ts":{now_ms},"seq":1,"smoke_obs":0.1,"alarm":false}}'.encode())
            for d in smoke
        ]  # fmt: skip
        publish_all(engine_broker.port, messages)
        deadline = time.monotonic() + 20
        while sum(len(c.records) for _, c, _ in instances) < len(smoke):
            assert time.monotonic() < deadline, "not every message was stored in time"
            time.sleep(0.05)
        stop.set()
        for sub, _, thread in instances:
            thread.join(10)
            sub.__exit__(None, None, None)
        offline = announced(watcher, run_topics)
    shares = [{r.venue_id for r in c.records} for _, c, _ in instances]
    with psycopg.connect(fresh_db) as conn:
        stored = conn.execute("SELECT count(*), count(DISTINCT device_id) FROM reading").fetchone()
    assert stored == (len(smoke), len(smoke)), "each message stored once, by one instance"
    assert all(shares) and not shares[0] & shares[1], "each venue belongs to one partition"
    assert online == {b"online"} and offline == {b"offline"}


def test_each_partition_sweeps_only_its_own_venues_silent_devices(fresh_db: str) -> None:
    seed_registry(fresh_db)  # five devices in four venues, registered long ago, never heard
    parts = [Partition.parse(f"{k}/2") for k in (1, 2)]
    with psycopg.connect(fresh_db) as conn:
        conn.execute("UPDATE device SET updated_at = now() - interval '1 hour'")
        conn.commit()
        owned = [p.venues(conn) or [] for p in parts]
        assert conn.info.transaction_status == pq.TransactionStatus.IDLE, (
            "no transaction left open on a connection whose writes must commit"
        )
        found = [sweep(conn, datetime.now(UTC), venues) for venues in owned]
        again = [sweep(conn, datetime.now(UTC), venues) for venues in owned]
    assert sorted(owned[0] + owned[1]) == ["V-HOME", "V-SHED", "V-SHOP", "V-TOWER"]
    assert owned[0] and owned[1], "the four venues split between the two"
    for venues, offline in zip(owned, found, strict=True):
        assert offline and {o.venue_id for o in offline} <= set(venues), "only its own venues"
    assert sorted(o.device_id for f in found for o in f) == sorted(DEVICES), "each device once"
    assert again == [[], []]


def announced(watcher: MqttTestClient, wanted: set[str]) -> set[bytes]:
    """What each of `wanted` announced now: retained announcements of earlier tests on the
    shared broker (a killed engine's `offline`) are not this test's."""
    got: dict[str, bytes] = {}
    while set(got) != wanted:
        message = watcher.receive()
        if message.topic in wanted and not message.retain:
            got[message.topic] = bytes(message.payload)
    return set(got.values())
