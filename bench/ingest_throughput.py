"""Ingest end to end: stored messages per second, with zero loss, against two references.

    python bench/ingest_throughput.py [--quick] [--rate 30000] [--devices 3000]

One run, one machine, one private Mosquitto with the engine's configuration, one PostgreSQL:
1. drain: the MQTT client the engine uses (paho-mqtt with large socket reads), QoS 1, only
   decoding the JSON, counting and acknowledging: the ceiling for the pipeline. Plain paho-mqtt
   is measured beside it, to show what the large reads buy.
2. baseline: the naive design, a paho-mqtt callback doing one INSERT per message.
3. firewatch: the ingest pipeline (decode, validate, enrich, COPY, commit, then acknowledge) at a
   steady offered rate; every acknowledged message is checked in the database (zero loss), the
   lag from device time to hand-off is measured, and memory is sampled throughout.
The last line is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import json
import secrets
import sys
import tempfile
import threading
import time
from array import array
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import orjson
import paho.mqtt.client as mqtt
import psycopg
from paho.mqtt.enums import CallbackAPIVersion

from bench._support import (
    pids_named,
    postgres_server,
    process_cpu_s,
    rss_mb,
    scratch_database,
    thread_cpu_s,
)
from firewatch.embedded.load_broker import private_mosquitto
from firewatch.ingest.decode import DecodeLimits
from firewatch.ingest.pipeline import IngestPipeline, IngestSettings
from firewatch.ingest.stream import Batch
from firewatch.ingest.subscribe import Subscriber
from firewatch.kernel.broker import BrokerAddress
from firewatch.kernel.clock import SystemClock
from firewatch.registry import import_registry
from firewatch.simulators.load import generate_devices, registry_document, run_load


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def load_registry(url: str, devices: Any, tmp: Path) -> None:
    path = tmp / f"registry-{secrets.token_hex(3)}.json"
    path.write_text(json.dumps(registry_document(devices)))
    with psycopg.connect(url) as conn:
        import_registry([path], conn)


def measure_drain(broker: BrokerAddress, devices: Any, rate: float, window_s: float) -> float:
    """Our client's drain rate: take, decode the JSON, count, acknowledge."""
    clock = SystemClock()
    counted = 0
    first: float | None = None
    stop = threading.Event()
    with Subscriber(
        broker, f"drain-{secrets.token_hex(3)}", clock, session_expiry_s=60, capacity=50_000
    ) as sub:

        def drain() -> None:
            nonlocal counted, first
            while not stop.is_set():
                batch = sub.take(5000, 0.05)
                if batch and first is None:
                    first = time.monotonic()
                for item in batch:
                    orjson.loads(item.payload)
                counted += len(batch)
                sub.ack(batch)

        thread = threading.Thread(target=drain, name="drain")
        thread.start()
        run_load(broker.host, broker.port, devices, rate, window_s, client_id="drain-load")
        ended, done = time.monotonic(), counted
        stop.set()
        thread.join()
    return done / (ended - (first or ended) or 1)


def measure_plain_paho(broker: BrokerAddress, devices: Any, rate: float, window_s: float) -> float:
    """Plain paho-mqtt, auto-acknowledging after a callback that decodes the JSON and counts."""
    counted = 0
    first: float | None = None

    def on_message(_c: Any, _u: Any, message: mqtt.MQTTMessage) -> None:
        nonlocal counted, first
        if first is None:
            first = time.monotonic()
        orjson.loads(message.payload)
        counted += 1

    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"plain-{secrets.token_hex(3)}")
    client.on_message = on_message
    client.connect(broker.host, broker.port)
    client.subscribe("fw/v1/#", qos=1)
    client.loop_start()
    time.sleep(0.3)
    run_load(broker.host, broker.port, devices, rate, window_s, client_id="plain-load")
    ended, done = time.monotonic(), counted
    client.loop_stop()
    client.disconnect()
    return done / (ended - (first or ended) or 1)


def measure_baseline(
    broker: BrokerAddress, url: str, devices: Any, rate: float, window_s: float
) -> float:
    """The naive design: one INSERT per message, in the paho callback, acknowledged after it."""
    with psycopg.connect(url) as conn:
        venue_of: dict[str, str] = dict(
            conn.execute("SELECT device_id, venue_id FROM device").fetchall()
        )
    conn = psycopg.connect(url, autocommit=True)
    stored = 0
    first: float | None = None

    def on_message(_c: Any, _u: Any, message: mqtt.MQTTMessage) -> None:
        nonlocal stored, first
        if first is None:
            first = time.monotonic()
        _, _, kind, device_id, mtype = message.topic.split("/")
        body = json.loads(message.payload)
        ts = body["ts"] if isinstance(body["ts"], str) else body["ts"] / 1000
        ts_sql = "%s::timestamptz" if isinstance(ts, str) else "to_timestamp(%s)"
        table = {"reading": "reading", "event": "device_event", "status": "device_status"}[mtype]
        extra = {"event": body.get("event", "")} if mtype == "event" else {}
        columns = "ts, received_at, device_id, kind, venue_id, seq" + (", event" if extra else "")
        values = f"{ts_sql}, now(), %s, %s, %s, %s" + (", %s" if extra else "")
        conn.execute(
            f"INSERT INTO {table} ({columns}) VALUES ({values}) ON CONFLICT DO NOTHING",
            (ts, device_id, kind, venue_of[device_id], body["seq"], *extra.values()),
        )
        stored += 1

    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"naive-{secrets.token_hex(3)}")
    client.on_message = on_message
    client.connect(broker.host, broker.port)
    client.subscribe("fw/v1/#", qos=1)
    client.loop_start()
    time.sleep(0.3)
    run_load(broker.host, broker.port, devices, rate, window_s, client_id="naive-load")
    ended, done = time.monotonic(), stored
    client.loop_stop()
    client.disconnect()
    conn.close()
    return done / (ended - (first or ended) or 1)


class LagProbe:
    """A consumer that counts what is handed on and samples the lag from device time."""

    def __init__(self) -> None:
        self.records = 0
        self.lags_ms = array("d")

    def consume(self, batch: Batch) -> None:
        now = time.time()
        self.records += len(batch.records)
        for record in batch.records[::10]:
            ts = getattr(record, "ts", None)
            if ts is not None:
                self.lags_ms.append((now - ts.timestamp()) * 1000)


def measure_pipeline(
    broker: BrokerAddress, url: str, devices: Any, rate: float, duration_s: float
) -> dict[str, Any]:
    clock = SystemClock()
    probe = LagProbe()
    rss: list[float] = []
    stop, sampling = threading.Event(), threading.Event()
    with Subscriber(
        broker, f"fw-bench-{secrets.token_hex(3)}", clock, session_expiry_s=600, capacity=50_000
    ) as sub:
        pipeline = IngestPipeline(
            sub,
            lambda: psycopg.connect(url),
            clock,
            IngestSettings(2000, 0.2, DecodeLimits(300, 7 * 86400)),
            [probe],
        )
        thread = threading.Thread(target=pipeline.run, args=(stop,), name="ingest")
        thread.start()

        def sample() -> None:
            while not sampling.wait(1.0):
                rss.append(rss_mb())

        sampler = threading.Thread(target=sample, name="sampler", daemon=True)
        sampler.start()
        cpu_before = thread_cpu_s()
        others_before = {n: process_cpu_s(pids_named(n)) for n in ("mosquitto", "postgres")}
        started = time.monotonic()
        report = run_load(broker.host, broker.port, devices, rate, duration_s, client_id="e2e-load")
        published_at = time.monotonic()
        deadline = published_at + 120
        while probe.records < report.acked and time.monotonic() < deadline:
            time.sleep(0.02)
        finished = time.monotonic()
        cpu_after = thread_cpu_s()
        others = {n: process_cpu_s(pids_named(n)) - others_before[n] for n in others_before}
        sampling.set()
        stop.set()
        thread.join()
    with psycopg.connect(url) as conn:
        stored = {
            t: int(conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0])  # type: ignore[index]
            for t in ("reading", "device_event", "device_status")
        }
        rejected = int(conn.execute("SELECT count(*) FROM rejected_message").fetchone()[0])  # type: ignore[index]
    lags = sorted(probe.lags_ms)
    elapsed = finished - started
    cpu = {k: round(cpu_after.get(k, 0) - cpu_before.get(k, 0), 2) for k in cpu_after}
    return {
        "acked": report.acked,
        "offered_per_s": round(report.achieved_per_s),
        "stored": stored,
        "rejected": rejected,
        "lost": report.acked - sum(stored.values()),
        "readings_per_s": round(sum(stored.values()) / elapsed),
        "drain_tail_s": round(finished - published_at, 2),
        "p50_lag_ms": round(lags[len(lags) // 2], 1) if lags else None,
        "p99_lag_ms": round(lags[int(len(lags) * 0.99)], 1) if lags else None,
        "rss_mb": {
            "first": rss[0] if rss else None,
            "max": max(rss, default=None),
            "last": rss[-1] if rss else None,
        },
        "cpu_s": {
            "threads": cpu,
            **{k: round(v, 2) for k, v in others.items()},
            "elapsed": round(elapsed, 2),
        },
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a run of under a minute")
    parser.add_argument("--rate", type=float, default=30_000, help="offered messages/s end to end")
    parser.add_argument("--devices", type=int, default=3000)
    args = parser.parse_args()
    window = 5.0 if args.quick else 10.0
    duration = 15.0 if args.quick else 40.0
    devices = generate_devices(args.devices)
    with (
        tempfile.TemporaryDirectory(prefix="fw-bench-") as tmp,
        private_mosquitto() as mosq,
        postgres_server(Path(tmp)) as server,
    ):
        broker = BrokerAddress(mosq.host, mosq.port, None, None, tls=False)
        say(f"drain: our client, offered {2 * args.rate:.0f}/s for {window:.0f} s")
        drain = measure_drain(broker, devices, 2 * args.rate, window)
        say(f"  {drain:,.0f} messages/s; plain paho-mqtt beside it")
        plain = measure_plain_paho(broker, devices, 2 * args.rate, window)
        say(f"  {plain:,.0f} messages/s")
        with scratch_database(server, "base") as url:
            load_registry(url, devices, Path(tmp))
            say(f"baseline: one INSERT per message, offered {args.rate:.0f}/s for {window:.0f} s")
            baseline = measure_baseline(broker, url, devices, args.rate, window)
            say(f"  {baseline:,.0f} messages/s")
        with scratch_database(server, "e2e") as url:
            load_registry(url, devices, Path(tmp))
            say(f"firewatch: offered {args.rate:.0f}/s for {duration:.0f} s")
            e2e = measure_pipeline(broker, url, devices, args.rate, duration)
            say(f"  {json.dumps(e2e)}")
    figures = {
        "readings_per_s": e2e["readings_per_s"],
        "drain_per_s": round(drain),
        "plain_paho_drain_per_s": round(plain),
        "baseline_per_s": round(baseline),
        "ratio": round(e2e["readings_per_s"] / baseline, 1),
        "of_drain": round(e2e["readings_per_s"] / drain, 2),
        "lost": e2e["lost"],
        "p99_lag_ms": e2e["p99_lag_ms"],
        "p50_lag_ms": e2e["p50_lag_ms"],
        "rss_mb": e2e["rss_mb"],
        "cpu_s": e2e["cpu_s"],
        "offered_per_s": e2e["offered_per_s"],
        "duration_s": duration,
        "quick": args.quick,
    }
    print(json.dumps(figures))
    return 0 if e2e["lost"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
