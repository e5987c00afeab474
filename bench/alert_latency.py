"""Alert latency: from the MQTT publish of the reading that confirms a fire to the moment the
local SMS receiver has the station's POST, under a steady background of contract traffic.

    python bench/alert_latency.py [--quick] [--rate 5000] [--probes 60] [--devices 3000]

One run, one machine: a private Mosquitto with the engine's configuration, one PostgreSQL, the
ingest pipeline as the engine runs it (batches of 2000 or 200 ms), the alerting stage with its
worker and deliverer threads, and real HTTP receivers for SMS, push and webhook on loopback.

The rules stage is not part of this run (issue 5 is built in parallel): a minimal evidence
source defined here stands in for it — a smoke reading with `alarm: true` whose temperature is
8 °C or more above the same detector's previous reading becomes red evidence ("smoke with a heat
rate of rise"), which alerting confirms at once. Each probe is its own venue with one detector:
a baseline reading first, then, under load, the confirming one; the latency is from just before
that publish to the SMS receiver holding the station's notification.

A naive baseline runs beside it (`--no-baseline` to skip): the same pipeline and stage, but a
deliverer that only polls the outbox once a second instead of being woken by the commit.

The last line is one JSON object with p50_ms, p99_ms and background_per_s.
"""

from __future__ import annotations

import argparse
import json
import secrets
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import paho.mqtt.client as mqtt
import psycopg
from paho.mqtt.enums import CallbackAPIVersion

from bench._support import postgres_server, scratch_database
from firewatch.alerting import AckSettings, Alerting, AlertSettings, AlertStage, DeliverySettings
from firewatch.embedded.load_broker import private_mosquitto
from firewatch.ingest.decode import DecodeLimits
from firewatch.ingest.pipeline import IngestPipeline, IngestSettings
from firewatch.ingest.records import Reading
from firewatch.ingest.stream import Batch
from firewatch.ingest.subscribe import Subscriber
from firewatch.kernel import topics
from firewatch.kernel.broker import BrokerAddress
from firewatch.kernel.clock import SystemClock
from firewatch.kernel.contract import DeviceKind, Level
from firewatch.registry import import_document
from firewatch.rules.evidence import Category, Evidence, ReadingRef, Scope
from firewatch.simulators.load import generate_devices, registry_document, run_load

STATION_PHONE = "+8613800000777"
EVIDENCE_SOURCE = "bench stand-in for rules: smoke alarm=true with >= 8 °C rise -> red evidence"


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


class BenchEvidence:
    """The stand-in evidence source: an ingest consumer feeding the alerting stage."""

    def __init__(self, stage: AlertStage) -> None:
        self._stage = stage
        self._last: dict[str, float] = {}

    def consume(self, batch: Batch) -> None:
        found = []
        last = self._last
        for r in batch.records:
            if type(r) is not Reading or r.kind != DeviceKind.SMOKE or r.temp_c is None:
                continue
            before = last.get(r.device_id)
            last[r.device_id] = r.temp_c
            if r.alarm and before is not None and r.temp_c - before >= 8.0:
                refs = (ReadingRef(r.device_id, r.ts, r.seq, "smoke_obs", r.smoke_obs),
                        ReadingRef(r.device_id, r.ts, r.seq, "temp_c", r.temp_c))  # fmt: skip
                found.append(Evidence("bench_smoke_heat_rise", 1, Category.FIRE, Level.RED,
                                      Scope.DEVICE, r.device_id, r.venue_id, (r.device_id,),
                                      r.ts, f"smoke in alarm, +{r.temp_c - before:.0f} °C",
                                      refs))  # fmt: skip
        if found:
            self._stage.take(evidence=found)


@dataclass
class Receiver:
    """SMS, push and webhook receivers on one loopback port: when each POST arrived."""

    sms_at: dict[str, float] = field(default_factory=dict)  # alert_id → first station SMS
    posts: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


@contextmanager
def receiver() -> Iterator[tuple[Receiver, int]]:
    r = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["content-length"])))
            now = time.monotonic()
            with r.lock:
                r.posts += 1
                if self.path == "/sms" and body["to"] == [STATION_PHONE]:
                    r.sms_at.setdefault(body["alert_id"], now)
            self.send_response(200)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *_args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield r, int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()


def registry(devices: Any, probes: int) -> dict[str, list[dict[str, Any]]]:
    doc = registry_document(devices)
    doc["stations"].append({"station_id": "PROBE-S", "name": "探针微型消防站", "kind": "micro",
                            "phones": [STATION_PHONE], "lat": 31.23, "lon": 121.47})  # fmt: skip
    for i in range(probes):
        doc["venues"].append({
            "venue_id": f"PROBE-V{i}", "name": f"探针场所 {i}", "venue_type": "rental_housing",
            "category": 1, "community": "探针", "grid": "P-1", "address": f"测试路 {i} 号",
            "lat": 31.23, "lon": 121.47, "station_id": "PROBE-S", "contacts": ["+8613900000777"],
        })  # fmt: skip
        doc["devices"].append({"device_id": f"PROBE-SMK-{i}", "kind": "smoke",
                               "venue_id": f"PROBE-V{i}", "location": "二楼",
                               "heartbeat_s": 600})  # fmt: skip
    return doc


class Prober:
    """Publishes probe readings at QoS 1 from its own client, noting when each was sent."""

    def __init__(self, port: int) -> None:
        self._client = mqtt.Client(CallbackAPIVersion.VERSION2,
                                   client_id=f"probe-{secrets.token_hex(3)}")  # fmt: skip
        self._client.connect("127.0.0.1", port)
        self._client.loop_start()
        self._seq = 0

    def reading(self, i: int, smoke: float, temp: float, alarm: bool) -> float:
        self._seq += 1
        body = {"ts": datetime.now(UTC).isoformat(), "seq": self._seq, "smoke_obs": smoke,
                "temp_c": temp, "alarm": alarm}  # fmt: skip
        sent = time.monotonic()
        self._client.publish(topics.reading("smoke", f"PROBE-SMK-{i}"), json.dumps(body), qos=1)
        return sent

    def close(self) -> None:
        self._client.loop_stop()
        self._client.disconnect()


def measure(broker: BrokerAddress, url: str, devices: Any, args: argparse.Namespace, *,
            poll_only: bool) -> dict[str, Any]:  # fmt: skip
    clock = SystemClock()
    with receiver() as (rx, port):
        base = f"http://127.0.0.1:{port}"
        delivery = DeliverySettings(sms_url=f"{base}/sms", push_url=f"{base}/push",
                                    webhook_url=f"{base}/hook")  # fmt: skip
        if poll_only:
            delivery = replace(delivery, poll_s=1.0)
        settings = AlertSettings(delivery=delivery,
                                 ack=AckSettings(secret=secrets.token_bytes(32)))  # fmt: skip
        connect = lambda: psycopg.connect(url)  # noqa: E731
        with Alerting(connect, clock, settings) as alerting, Subscriber(
            broker, f"fw-bench-{secrets.token_hex(3)}", clock, session_expiry_s=600,
            capacity=50_000,
        ) as sub:  # fmt: skip
            if poll_only:
                alerting.stage.on_queued = lambda: None  # the naive baseline: no wake-up
            source = BenchEvidence(alerting.stage)
            pipeline = IngestPipeline(sub, connect, clock,
                                      IngestSettings(2000, 0.2, DecodeLimits(300, 7 * 86400)),
                                      [source, alerting.stage])  # fmt: skip
            stop = threading.Event()
            ingest = threading.Thread(target=pipeline.run, args=(stop,), name="ingest")
            ingest.start()
            prober = Prober(broker.port)
            for i in range(args.probes):
                prober.reading(i, 0.4, 24.0, False)  # each detector's baseline
            duration = args.warmup + args.probes * args.every + 5
            report: dict[str, Any] = {}

            def load() -> None:
                report["load"] = run_load(broker.host, broker.port, devices, args.rate,
                                          duration, client_id="bench-bg")  # fmt: skip

            background = threading.Thread(target=load, name="background")
            background.start()
            time.sleep(args.warmup)
            sent: dict[str, float] = {}
            for i in range(args.probes):
                sent[f"PROBE-V{i}"] = prober.reading(i, 15.0, 45.0, True)
                time.sleep(args.every)
            background.join()
            deadline = time.monotonic() + 30
            while len(rx.sms_at) < args.probes and time.monotonic() < deadline:
                time.sleep(0.05)
            prober.close()
            stop.set()
            ingest.join()
        with psycopg.connect(url) as conn:
            venue_of: dict[str, str] = dict(
                conn.execute("SELECT alert_id, venue_id FROM alert").fetchall()
            )
            conn.execute("DELETE FROM delivery_log")  # a clean outbox for the next measurement
            conn.execute("DELETE FROM notification")
    lat = sorted((at - sent[venue_of[a]]) * 1000 for a, at in rx.sms_at.items())
    achieved = report["load"].achieved_per_s
    return {
        "probes": args.probes, "arrived": len(lat),
        "p50_ms": round(statistics.median(lat), 1) if lat else None,
        "p99_ms": round(lat[min(len(lat) - 1, int(len(lat) * 0.99))], 1) if lat else None,
        "max_ms": round(lat[-1], 1) if lat else None, "background_per_s": round(achieved),
        "acked": report["load"].acked,
    }  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a run of about half a minute")
    parser.add_argument("--rate", type=float, default=5000, help="background messages/s")
    parser.add_argument("--probes", type=int, default=100)
    parser.add_argument("--devices", type=int, default=3000)
    parser.add_argument("--no-baseline", action="store_true")
    args = parser.parse_args()
    args.every, args.warmup = 0.3, 3.0
    if args.quick:
        args.probes = min(args.probes, 30)
    devices = generate_devices(args.devices)
    with (
        tempfile.TemporaryDirectory(prefix="fw-bench-") as tmp,
        private_mosquitto() as mosq,
        postgres_server(Path(tmp)) as server,
    ):
        broker = BrokerAddress(mosq.host, mosq.port, None, None, tls=False)
        results: dict[str, dict[str, Any]] = {}
        runs = [("firewatch", False)] + ([] if args.no_baseline else [("baseline", True)])
        for label, poll_only in runs:
            with scratch_database(server, f"alert_{label}") as url:
                with psycopg.connect(url) as conn:
                    import_document("bench.json", json.dumps(registry(devices, args.probes)), conn)
                naive = " (deliverer polls once a second, no wake-up)" if poll_only else ""
                say(f"{label}: {args.probes} probes under {args.rate:.0f} readings/s{naive}")
                results[label] = measure(broker, url, devices, args, poll_only=poll_only)
                say(f"  {json.dumps(results[label])}")
    ours = results["firewatch"]
    figures = {
        "p50_ms": ours["p50_ms"], "p99_ms": ours["p99_ms"], "max_ms": ours["max_ms"],
        "background_per_s": ours["background_per_s"], "probes": ours["probes"],
        "arrived": ours["arrived"], "target_p99_ms": 1000,
        "baseline_p50_ms": results.get("baseline", {}).get("p50_ms"),
        "baseline_p99_ms": results.get("baseline", {}).get("p99_ms"),
        "evidence_source": EVIDENCE_SOURCE, "quick": args.quick,
    }  # fmt: skip
    print(json.dumps(figures, ensure_ascii=False))
    ok = ours["arrived"] == ours["probes"] and (ours["p99_ms"] or 1e9) <= 1000
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
