"""Soak: the whole engine at half its maximum sustained rate for an hour; memory, lag and loss.

    python bench/soak.py [--quick] [--minutes 60] [--devices 3000]

One private Mosquitto with the engine's configuration, one scratch database, and `firewatch run`
(every stage: ingest, rules, risk, cases, alerting, rollups) as a child process with a probe at
the end of its stream (bench/_support.py: EngineChild):
1. ramp: steps of rising offered rate (QoS 1, 3,000 devices of all four kinds); the maximum
   sustained rate is the most the engine stored per second in a step, found where a step's
   stored/s falls behind what it was offered. The backlog is drained before going on.
2. soak: half that rate for `--minutes` (--quick: 30 s), a sample every minute (--quick: every
   5 s): engine RSS, stored/s, lag from device time to commit (p50/p99), backlog (acknowledged
   by the broker, not yet stored), the load average (the machine is shared). At the end the
   drift (least-squares slope of RSS and of p99 over time: flat is the goal) and the loss
   (rows in the database against messages the broker acknowledged: zero is the goal).
The last line is one JSON object with the figures; samples go to --out as JSON lines as well.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg

from bench._support import EngineChild, load_average, postgres_server, say, scratch_database
from bench.ingest_throughput import load_registry
from firewatch.embedded.load_broker import private_mosquitto
from firewatch.simulators.load import LoadDevice, LoadProgress, generate_devices, run_load

KEPT_UP = 0.95
"""A step is sustained when the engine stored at least this share of the offered rate."""


class Load:
    """`run_load` in a thread, its acknowledged count followed as it goes."""

    def __init__(self, port: int, devices: tuple[LoadDevice, ...], name: str) -> None:
        self.port, self.devices, self.name = port, devices, name
        self.acked_before = 0  # by earlier runs, so `acked` is cumulative like the engine's count
        self.acked = 0
        self.published = 0
        self._thread: threading.Thread | None = None
        self.error: BaseException | None = None
        self.runs = 0

    def start(self, rate: float, seconds: float) -> None:
        self.runs += 1

        def progress(p: LoadProgress) -> None:
            self.acked = self.acked_before + p.acked

        def run() -> None:
            try:
                report = run_load(
                    "127.0.0.1", self.port, self.devices, rate, seconds,
                    client_id=f"{self.name}-{self.runs}", progress=progress,
                    progress_interval_s=0.25,
                )  # fmt: skip
            except BaseException as exc:  # reported by join(), in the main thread
                self.error = exc
                return
            self.published += report.published
            self.acked = self.acked_before = self.acked_before + report.acked
            self.last_rate = report.achieved_per_s

        self.last_rate = 0.0
        self._thread = threading.Thread(target=run, name="load", daemon=True)
        self._thread.start()

    def wait_started(self) -> None:
        """Until the first acknowledgement (the publishers are processes that take a moment)."""
        while self.acked == self.acked_before and self.running:
            time.sleep(0.02)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def join(self) -> None:
        if self._thread is not None:
            self._thread.join()
        if self.error is not None:
            raise self.error


def drain(engine: EngineChild, acked: int, timeout_s: float) -> dict[str, Any]:
    """Wait until the engine has stored everything the broker acknowledged."""
    deadline = time.monotonic() + timeout_s
    while True:
        sample = engine.sample()
        if sample["stored"] >= acked or time.monotonic() > deadline:
            return sample
        time.sleep(0.2)


def step(engine: EngineChild, load: Load, rate: float, seconds: float) -> dict[str, Any]:
    """Offer `rate` for `seconds`; what the engine stored per second meanwhile; then drain.

    Stored grows in batches (up to 2,000 records, five a second), so two samples a second apart
    can be 20 % off; the rate is the least-squares slope of samples taken every 0.2 s."""
    load.start(rate, seconds)
    load.wait_started()
    time.sleep(min(1.0, seconds / 4))  # past the first batches
    points, last = [], engine.sample()  # the lag window starts here
    while load.running:
        points.append((last["t"], float(last["stored"])))
        time.sleep(0.2)
        last = engine.sample("peek")
    load.join()
    last = engine.sample()
    stored_per_s = slope(points) or 0.0
    kept_up = stored_per_s >= KEPT_UP * load.last_rate
    say(
        f"  offered {load.last_rate:8,.0f}/s  stored {stored_per_s:8,.0f}/s  "
        f"p99 lag {last['p99_lag_ms']} ms  backlog {load.acked - last['stored']:,}"
        + ("" if kept_up else "  <- behind")
    )
    drain(engine, load.acked, 120)
    return {
        "offered_per_s": round(load.last_rate),
        "stored_per_s": round(stored_per_s),
        "p99_lag_ms": last["p99_lag_ms"],
        "kept_up": kept_up,
    }


def ramp(
    engine: EngineChild, load: Load, rates: list[float], step_s: float, halvings: int
) -> dict[str, Any]:
    """Rising steps until one is not kept up with, then `halvings` steps of bisection between
    the last rate kept up with and the first that was not. Overloaded, the engine stores less
    than it can sustain (broker, database and engine share the cores), so the maximum is the
    most stored per second in a step that kept up, not the throughput under overload."""
    steps = []
    good, bad = 0.0, None
    for rate in rates:
        steps.append(step(engine, load, rate, step_s))
        if not steps[-1]["kept_up"]:
            bad = rate
            break
        good = rate
    for _ in range(halvings if bad is not None else 0):
        rate = (good + bad) / 2  # type: ignore[operator]  # bad is set in this loop
        steps.append(step(engine, load, rate, step_s))
        good, bad = (rate, bad) if steps[-1]["kept_up"] else (good, rate)
    # A step kept up with sustained what it was offered; stored/s a little above that is the
    # first batches of the step caught up in the fitted window.
    sustained = [min(s["stored_per_s"], s["offered_per_s"]) for s in steps if s["kept_up"]]
    return {
        "max_rate": max(sustained) if sustained else max(s["stored_per_s"] for s in steps),
        "kept_up_any": bool(sustained),
        "overloaded_per_s": min(
            (s["stored_per_s"] for s in steps if not s["kept_up"]), default=None
        ),
        "steps": steps,
    }


def slope(points: list[tuple[float, float]]) -> float | None:
    """Least-squares slope of (seconds, value), per second."""
    if len(points) < 2:
        return None
    n = len(points)
    mean_t = sum(t for t, _ in points) / n
    mean_v = sum(v for _, v in points) / n
    var = sum((t - mean_t) ** 2 for t, _ in points)
    cov = sum((t - mean_t) * (v - mean_v) for t, v in points)
    return cov / var if var else None


def median(values: list[float | None]) -> float | None:
    """Of the samples that had records to measure (a stalled minute has none)."""
    known = sorted(v for v in values if v is not None)
    return known[len(known) // 2] if known else None


def slope_per_hour(points: list[tuple[float, float]]) -> float | None:
    per_s = slope(points)
    return None if per_s is None else round(per_s * 3600, 2)


def soak(
    engine: EngineChild, load: Load, rate: float, duration_s: float, every_s: float, out: Path
) -> list[dict[str, Any]]:
    samples: list[dict[str, Any]] = []
    load.start(rate, duration_s)
    load.wait_started()
    previous = engine.sample()
    started = previous["t"]
    with out.open("a") as log:
        while True:
            next_at = previous["t"] + every_s
            while time.time() < next_at and load.running:
                time.sleep(min(0.5, max(0.0, next_at - time.time())))
            if not load.running and time.time() < next_at - 0.1 * every_s:
                break  # the load ended between samples: a short last interval says little
            now = engine.sample()
            interval = now["t"] - previous["t"]
            sample = {
                "elapsed_s": round(now["t"] - started, 1),
                "rss_mb": now["rss_mb"],
                "stored_per_s": round((now["stored"] - previous["stored"]) / interval),
                "p50_lag_ms": now["p50_lag_ms"],
                "p99_lag_ms": now["p99_lag_ms"],
                "max_lag_ms": now["max_lag_ms"],
                # acked is read every 0.25 s, so a backlog near zero may come out below it
                "backlog": max(0, load.acked - now["stored"]),
                "in_broker": max(0, load.acked - now["received"]),
                "duplicates": now["duplicates"],
                "engine_cpu": round((now["cpu_s"] - previous["cpu_s"]) / interval, 2),
                "load_avg": load_average(),
            }
            samples.append(sample)
            log.write(json.dumps(sample) + "\n")
            log.flush()
            say(
                f"  {sample['elapsed_s']:7.1f} s  RSS {sample['rss_mb']:6.1f} MB  "
                f"stored {sample['stored_per_s']:7,}/s  lag p50 {sample['p50_lag_ms']} "
                f"p99 {sample['p99_lag_ms']} ms  backlog {sample['backlog']:,}  "
                f"engine {sample['engine_cpu']} cores  load {sample['load_avg']}"
            )
            previous = now
            if not load.running:
                break
    load.join()
    return samples


def count_rows(url: str) -> int:
    with psycopg.connect(url) as conn:
        return sum(
            int(conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0])  # type: ignore[index,misc]
            for t in ("reading", "device_event", "device_status")
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a run of under a minute")
    parser.add_argument("--minutes", type=float, default=60.0, help="soak duration")
    parser.add_argument("--devices", type=int, default=3000)
    parser.add_argument("--out", type=Path, help="samples as JSON lines (default: a temp file)")
    args = parser.parse_args()
    duration = 25.0 if args.quick else args.minutes * 60
    every = 5.0 if args.quick else 60.0
    step_s = 2.5 if args.quick else 10.0
    factor, first = (2.0, 5000.0) if args.quick else (1.5, 4000.0)
    halvings = 1 if args.quick else 3
    rates = [first * factor**i for i in range(12) if first * factor**i <= 100_000]
    devices = generate_devices(args.devices)
    with (
        tempfile.TemporaryDirectory(prefix="fw-soak-") as tmp,
        private_mosquitto() as mosq,
        postgres_server(Path(tmp)) as server,
        scratch_database(server, "soak") as url,
    ):
        out = args.out or Path(tmp) / "samples.jsonl"
        load_registry(url, devices, Path(tmp))
        engine = EngineChild(url, mosq.port, Path(tmp), "soak")
        try:
            engine.start()
            say(f"engine pid {engine.pid}; ramp: {step_s:.1f} s steps from {first:,.0f}/s")
            load = Load(mosq.port, devices, "soak-load")
            found = ramp(engine, load, rates, step_s, halvings)
            rate = found["max_rate"] / 2
            say(
                f"maximum sustained {found['max_rate']:,}/s; soak at {rate:,.0f}/s for "
                f"{duration / 60:.1f} min, a sample every {every:.0f} s (load average: shared)"
            )
            samples = soak(engine, load, rate, duration, every, out)
            drained = drain(engine, load.acked, 300)
            final = engine.stop()
            say(f"  engine stopped after draining: {final['stored']:,} stored in all")
        except BaseException:
            say(f"engine log tail:\n{engine.log_tail()}")
            raise
        finally:
            engine.close()
        rows = count_rows(url)
    timeline = [(s["elapsed_s"], s) for s in samples]
    rss = [(t, s["rss_mb"]) for t, s in timeline]
    p99 = [(t, s["p99_lag_ms"]) for t, s in timeline if s["p99_lag_ms"] is not None]
    stored_per_s = [s["stored_per_s"] for s in samples]
    offered = load.last_rate  # what the generator achieved in the soak
    figures = {
        "max_rate": found["max_rate"],
        "max_rate_kept_up": found["kept_up_any"],
        "overloaded_stored_per_s": found["overloaded_per_s"],
        "soak_rate": round(rate),
        "soak_offered_per_s": round(offered),
        "minutes": round(duration / 60, 2),
        "samples": len(samples),
        "rss_first_mb": samples[0]["rss_mb"],
        "rss_last_mb": samples[-1]["rss_mb"],
        "rss_max_mb": max(s["rss_mb"] for s in samples),
        "rss_slope_mb_per_h": slope_per_hour(rss),
        "rss_slope_late_mb_per_h": slope_per_hour(rss[len(rss) // 2 :]),
        "p99_first_ms": samples[0]["p99_lag_ms"],
        "p99_last_ms": samples[-1]["p99_lag_ms"],
        "p99_max_ms": max((v for _, v in p99), default=None),
        "p99_median_ms": median([v for _, v in p99]),
        "p99_slope_ms_per_h": slope_per_hour(p99),
        "p99_slope_late_ms_per_h": slope_per_hour(p99[len(p99) // 2 :]),
        "p50_median_ms": median([s["p50_lag_ms"] for s in samples]),
        "stored_per_s_mean": round(sum(stored_per_s) / len(stored_per_s)),
        "stored_of_offered": round(sum(stored_per_s) / len(stored_per_s) / offered, 3),
        "backlog_max": max(s["backlog"] for s in samples),
        "published": load.published,
        "acked": load.acked,
        "stored_rows": rows,
        "loss": load.acked - rows,
        "unacked": load.published - load.acked,
        "drain_left": load.acked - drained["stored"],
        "load_avg_max": max(s["load_avg"] for s in samples),
        "ramp": found["steps"],
        "quick": args.quick,
    }
    print(json.dumps(figures), flush=True)
    return 0 if figures["loss"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
