"""Recovery: a backlog of stored-but-unevaluated readings caught up after a restart, against the
live evaluation rate; and the steady-state cost of the durable hand-off (positions, watermarks).

    python bench/recovery.py [--quick] [--readings 100000] [--batch 1000]

Everything runs in one process against a scratch PostgreSQL database (the local server, else
an embedded one), with the engine's own stages as `firewatch run` wires them (rules with the
default library, risk, cases, alerting with its delivery thread; no notification receiver, no
broker, no trained model loaded: risk runs on baselines, alarms and rule evidence alone).

The readings: 600 smoke detectors and 200 charging ports in 100 venues, one reading per device
per minute of device time (the last hours), ordinary values, with a detector alarm every 5,000
readings so that alerting has decisions to commit.

1. live, with watermarks: each batch of MQTT payloads decoded by ingest's `decode`, stored by
   its `BatchWriter` (a position in the same transaction) and handed to the `Evaluator`, as
   the decoder and committer do (in one thread here; no broker); timed from the first decode
   until every stage's watermark has reached the last position.
2. live, without: the same, storing without positions and feeding the stages through their
   pre-hand-off doors (`Batch.position` None): no watermark anywhere. Runs 1 and 2 alternate,
   three times each; the best of each is kept. `watermark_overhead` = 1 - (with / without).
3. replay: the readings decoded and stored first with nobody evaluating (a crash right after
   the commits),
   then the stages started: timed from the evaluator thread's start (the stages are loaded)
   until every stage's watermark has reached the last position.
   `replay_per_s` counts the readings evaluated by that catch-up.

The last line is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg

from bench._support import postgres_server, say, scratch_database
from firewatch.config import Config
from firewatch.evaluation import Evaluator
from firewatch.ingest.decode import decode
from firewatch.ingest.records import Decoded, DeviceInfo, Rejected, StaticRegistry, VenueInfo
from firewatch.ingest.store import BatchWriter
from firewatch.ingest.stream import Batch
from firewatch.ingest.timestamps import DecodeLimits
from firewatch.kernel import topics
from firewatch.kernel.clock import SystemClock
from firewatch.kernel.contract import DeviceKind
from firewatch.stages import start_stages

VENUES = 100
SMOKE_PER_VENUE = 6
PORTS_PER_VENUE = 2
ALARM_EVERY = 5000
LIMITS = DecodeLimits(max_future_s=300, max_age_s=10**9)


def seed(url: str) -> None:
    with psycopg.connect(url) as conn:
        conn.execute(
            "INSERT INTO station (station_id, name, kind, phones, lat, lon)"
            " VALUES ('MS-B', 'bench station', 'micro', ARRAY['+8613900000001'], 31.2, 121.4)"
        )
        for v in range(VENUES):
            conn.execute(
                "INSERT INTO venue (venue_id, name, venue_type, category, community, grid,"
                " address, lat, lon, station_id, contacts) VALUES (%s, %s, 'rental_housing', 1,"
                " 'Xinhua', 'G-01', 'bench road', 31.2, 121.4, 'MS-B', ARRAY['+8613700000000'])",
                (f"BV-{v}", f"venue {v}"),
            )
            for d in range(SMOKE_PER_VENUE):
                conn.execute(
                    "INSERT INTO device (device_id, kind, venue_id, location, heartbeat_s)"
                    " VALUES (%s, 'smoke', %s, 'room', 3600)",
                    (f"BS-{v}-{d}", f"BV-{v}"),
                )
            for d in range(PORTS_PER_VENUE):
                conn.execute(
                    "INSERT INTO device (device_id, kind, venue_id, location, heartbeat_s)"
                    " VALUES (%s, 'charging', %s, 'shed', 3600)",
                    (f"BC-{v}-{d}", f"BV-{v}"),
                )


Message = tuple[str, bytes]


def messages(total: int, size: int) -> list[list[Message]]:
    """The devices' readings as they arrive, MQTT topic and JSON payload, in ingest batches."""
    devices = [(f"BS-{v}-{d}", "smoke") for v in range(VENUES) for d in range(SMOKE_PER_VENUE)]
    devices += [(f"BC-{v}-{d}", "charging") for v in range(VENUES) for d in range(PORTS_PER_VENUE)]
    minutes = total // len(devices) + 1
    start = datetime.now(UTC) - timedelta(minutes=minutes + 5)
    out: list[Message] = []
    for m in range(minutes):
        ts = (start + timedelta(minutes=m)).isoformat()
        for device, kind in devices:
            if len(out) >= total:
                break
            n = len(out)
            body: dict[str, Any]
            if kind == "smoke":
                alarm = n % ALARM_EVERY == ALARM_EVERY - 1
                body = {"smoke_obs": 40 if alarm else 0.1 + (n % 7) / 100,
                        "temp_c": 70 if alarm else 23, "co_ppm": 300 if alarm else 2,
                        "humidity_pct": 50, "alarm": alarm}  # fmt: skip
            else:
                body = {"port": 1, "state": "charging", "current_a": 2.0 + (n % 5) / 10,
                        "voltage_v": 48, "power_w": 100, "temp_c": 30}  # fmt: skip
            payload = json.dumps({"ts": ts, "seq": m, **body}).encode()
            out.append((topics.reading(kind, device), payload))
    return [out[i : i + size] for i in range(0, len(out), size)]


def registry() -> StaticRegistry:
    infos = [DeviceInfo(f"BS-{v}-{d}", DeviceKind.SMOKE, f"BV-{v}", "Xinhua", "G-01", "MS-B",
                        3600) for v in range(VENUES) for d in range(SMOKE_PER_VENUE)]  # fmt: skip
    infos += [DeviceInfo(f"BC-{v}-{d}", DeviceKind.CHARGING, f"BV-{v}", "Xinhua", "G-01",
                         "MS-B", 3600)
              for v in range(VENUES) for d in range(PORTS_PER_VENUE)]  # fmt: skip
    venues = [VenueInfo(f"BV-{v}", "Xinhua", "G-01", "MS-B") for v in range(VENUES)]
    return StaticRegistry(infos, venues)


def decoded(batch: list[Message], view: StaticRegistry) -> list[Decoded]:
    """Ingest's own decoding of a batch, as the live engine decodes what the broker brings."""
    now = datetime.now(UTC)
    out = []
    for topic, payload in batch:
        record = decode(topic, payload, now, view, LIMITS)
        if isinstance(record, Rejected):
            raise SystemExit(f"the bench's own message was rejected: {record.detail}")
        out.append(record)
    return out


def wait(check: Callable[[], bool], timeout: float = 600.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise SystemExit("the stages did not catch up in time")
        time.sleep(0.005)


def stages_for(url: str, stack: ExitStack, stop: threading.Event) -> Evaluator:
    config = Config.model_validate({"engine": {"lag_alert_s": 3600}})
    stages = start_stages(config, url, SystemClock(), stack, stop)
    assert stages.evaluator is not None
    return stages.evaluator


def live(server: str, batches: list[list[Message]], *, positions: bool) -> float:
    """Readings per second decoded, stored and evaluated as they come."""
    with scratch_database(server, "recovery_live") as url, ExitStack() as stack:
        seed(url)
        stop = threading.Event()
        evaluator = stages_for(url, stack, stop)
        stack.callback(stop.set)  # unwinds first: the stages' threads then end at once
        wait(evaluator.ready.is_set)
        conn = stack.enter_context(psycopg.connect(url))
        writer = BatchWriter(conn, partition="p1of1" if positions else None)
        view = registry()
        started = time.monotonic()
        last = 0
        for batch in batches:
            result = writer.write(decoded(batch, view), [], flush_liveness=False)
            last = result.position or 0
            evaluator.consume(Batch(result.new, (), datetime.now(UTC), result.position))
        if positions:
            wait(lambda: evaluator.caught_up(last))
        else:
            wait(lambda: evaluator.evaluated >= len(batches) and evaluator.idle())
        return sum(map(len, batches)) / (time.monotonic() - started)


def replay(server: str, batches: list[list[Message]]) -> tuple[float, int]:
    """Readings per second caught up by a restarted engine; how many evaluations it took."""
    with scratch_database(server, "recovery_replay") as url, ExitStack() as stack:
        seed(url)
        with psycopg.connect(url) as conn:
            writer = BatchWriter(conn, partition="p1of1")
            view = registry()
            last = 0
            for batch in batches:
                last = writer.write(decoded(batch, view), [], flush_liveness=False).position or last
        stop = threading.Event()
        evaluator = stages_for(url, stack, stop)
        stack.callback(stop.set)
        wait(lambda: evaluator.caught_up(last))
        assert evaluator.started_at is not None
        return sum(map(len, batches)) / (
            time.monotonic() - evaluator.started_at
        ), evaluator.evaluated


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="10,000 readings")
    parser.add_argument("--readings", type=int, default=None)
    parser.add_argument("--batch", type=int, default=1000, help="readings per ingest batch")
    args = parser.parse_args()
    total = args.readings or (10_000 if args.quick else 100_000)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    logging.getLogger("firewatch").setLevel(logging.ERROR)
    batches = messages(total, args.batch)
    with tempfile.TemporaryDirectory() as tmp, postgres_server(Path(tmp)) as server:
        runs: dict[str, list[float]] = {"with": [], "without": []}
        for _ in range(3):
            for mode in ("with", "without"):
                rate = live(server, batches, positions=mode == "with")
                runs[mode].append(rate)
                say(f"live, {mode} watermarks: {rate:,.0f} readings/s")
        replay_rate, evaluations = replay(server, batches)
        say(f"replay after restart: {replay_rate:,.0f} readings/s in {evaluations} evaluations")
    live_rate, bare = max(runs["with"]), max(runs["without"])
    figures: dict[str, Any] = {
        "readings": total,
        "batch": args.batch,
        "replay_per_s": round(replay_rate),
        "live_per_s": round(live_rate),
        "live_without_watermarks_per_s": round(bare),
        "watermark_overhead": round(1 - live_rate / bare, 4),
        "replay_vs_live": round(replay_rate / live_rate, 3),
        "models_loaded": False,
        "notification_receiver": False,
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
