"""Load generator benchmark: sustained QoS 1 messages/s against a private Mosquitto, every
message counted by a subscriber, compared in the same run with a plain paho-mqtt publish loop.

    python bench/load.py [--quick]

The last line of output is one JSON object: achieved_per_s (the generator, acknowledged and
delivered messages per second), baseline_per_s (paho-mqtt), ratio, published, acked, delivered.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from firewatch.embedded.load_broker import private_mosquitto
from firewatch.kernel import topics
from firewatch.simulators.load import (
    Burst,
    CountingDrain,
    LoadDevice,
    LoadProgress,
    generate_devices,
    message_type_for,
    payload,
    run_load,
)
from firewatch.simulators.load.payloads import epoch_ms_bytes

BASELINE_BACKLOG = 2000
"""The baseline may run this many messages ahead of its PUBACKs, like the generator's window."""


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _progress(p: LoadProgress) -> None:
    _say(f"  {p.elapsed_s:5.1f}/{p.duration_s:.0f} s  acked {p.acked:>9,}  target {p.target:>9,}")


class _Acks:
    """PUBACKs counted by paho's network thread, waited for by the publishing loop."""

    def __init__(self) -> None:
        self.count = 0
        self.last = 0.0
        self.changed = threading.Condition()

    def on_publish(self, client: Any, userdata: Any, mid: int, reason: Any, props: Any) -> None:
        with self.changed:
            self.count += 1
            self.last = time.monotonic()
            self.changed.notify()

    def wait_until(self, count: int, timeout_s: float) -> None:
        with self.changed:
            self.changed.wait_for(lambda: self.count >= count, timeout=timeout_s)


def paho_baseline(
    host: str, port: int, devices: tuple[LoadDevice, ...], duration_s: float
) -> tuple[int, float]:
    """A plain paho-mqtt loop: publish(qos=1) as fast as it goes, PUBACKs counted in on_publish.

    Returns (messages acknowledged, seconds from the first publish to the last PUBACK)."""
    acks = _Acks()

    client = mqtt.Client(
        CallbackAPIVersion.VERSION2,
        client_id=f"fw-load-baseline-{os.getpid()}",
        protocol=mqtt.MQTTv311,
    )
    client.on_publish = acks.on_publish
    client.max_inflight_messages_set(BASELINE_BACKLOG)
    client.connect(host, port)
    client.loop_start()
    published = 0
    seqs = [0] * len(devices)
    start = time.monotonic()
    end = start + duration_s
    try:
        while time.monotonic() < end:
            ts = epoch_ms_bytes(int(time.time() * 1000))
            for i, device in enumerate(devices):
                seq = seqs[i]
                seqs[i] = seq + 1
                kind = device.kind
                topic = topics.device(kind, device.device_id, message_type_for(kind, seq))
                client.publish(topic, payload(kind, seq, ts, i), qos=1)
                published += 1
                if published - acks.count > BASELINE_BACKLOG:
                    acks.wait_until(published - BASELINE_BACKLOG, 10.0)
                if published % 256 == 0 and time.monotonic() >= end:
                    break
        acks.wait_until(published, 30.0)
    finally:
        client.loop_stop()
        client.disconnect()
    return acks.count, max(acks.last - start, 1e-9)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a run of under a minute")
    parser.add_argument(
        "--rate",
        type=float,
        default=200_000.0,
        help="target messages/s (above what the broker takes)",
    )
    parser.add_argument("--devices", type=int, default=2000)
    parser.add_argument("--processes", type=int, default=None)
    args = parser.parse_args()
    duration = 10.0 if args.quick else 30.0
    baseline_duration = 5.0 if args.quick else 15.0
    devices = generate_devices(args.devices)
    figures: dict[str, Any] = {"quick": args.quick, "devices": len(devices), "cpus": os.cpu_count()}

    with private_mosquitto() as broker:
        _say(f"private mosquitto on {broker.host}:{broker.port}")
        _say(f"generator: target {args.rate:,.0f} msg/s for {duration:.0f} s, QoS 1")
        with CountingDrain(broker.host, broker.port) as drain:
            report = run_load(
                broker.host,
                broker.port,
                devices,
                args.rate,
                duration,
                processes=args.processes,
                progress=_progress,
                progress_interval_s=2.0,
            )
            drain.wait_for(report.acked)
        delivered = drain.result.received
        _say(f"  acked {report.acked:,} at {report.achieved_per_s:,.0f}/s, delivered {delivered:,}")

        bursty = None
        if not args.quick:
            shape = Burst(period_s=10.0, burst_s=2.5, factor=3.0)
            mean = 15_000.0
            _say(f"generator, bursty: mean {mean:,.0f} msg/s, {shape.burst_s} s at {shape.factor}x")
            with CountingDrain(broker.host, broker.port) as drain:
                bursty = run_load(
                    broker.host,
                    broker.port,
                    devices,
                    mean,
                    20.0,
                    bursty=True,
                    burst=shape,
                    processes=args.processes,
                    progress=_progress,
                    progress_interval_s=2.0,
                )
                drain.wait_for(bursty.acked)
            bursty_delivered = drain.result.received
            figures["bursty"] = {
                "target_mean_per_s": mean,
                "achieved_per_s": round(bursty.achieved_per_s, 1),
                "acked": bursty.acked,
                "delivered": bursty_delivered,
                "lost": bursty.acked - bursty_delivered,
            }

        _say(f"baseline: paho-mqtt publish loop, QoS 1, {baseline_duration:.0f} s")
        with CountingDrain(broker.host, broker.port) as drain:
            base_acked, base_seconds = paho_baseline(
                broker.host, broker.port, devices, baseline_duration
            )
            drain.wait_for(base_acked)
        baseline_per_s = base_acked / base_seconds
        base_delivered = drain.result.received
        _say(f"  acked {base_acked:,} at {baseline_per_s:,.0f}/s, delivered {base_delivered:,}")

    figures.update(
        {
            "achieved_per_s": round(report.achieved_per_s, 1),
            "target_per_s": args.rate,
            "baseline_per_s": round(baseline_per_s, 1),
            "ratio": round(report.achieved_per_s / baseline_per_s, 2),
            "published": report.published,
            "acked": report.acked,
            "delivered": delivered,
            "lost": report.acked - delivered,
            "duration_s": round(report.duration_s, 2),
            "processes": report.processes,
            "per_kind": report.per_kind,
            "per_type": report.per_type,
            "baseline_acked": base_acked,
            "baseline_delivered": base_delivered,
        }
    )
    print(json.dumps(figures), flush=True)
    return 0 if report.acked == delivered and report.published == report.acked else 1


if __name__ == "__main__":
    sys.exit(main())
