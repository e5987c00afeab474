"""Partitions: two engine instances splitting the venues, against one instance, in the same run.

    python bench/partitions.py [--quick] [--devices 6000] [--key venue|community] [--rate 24000]

One private Mosquitto with the engine's configuration, PostgreSQL, and `firewatch run` as child
processes with a probe at the end of their streams (bench/_support.py: EngineChild), which counts
what each instance stored per device and which devices its liveness sweep reported offline:
1. one instance (`--partition 1/1`): the same burst offered (above what one instance stores),
   stored per second from the first acknowledgement to the last record stored;
2. two instances (`--partition 1/2`, `2/2`, same broker, same database, each its own MQTT
   session): the same burst; every message stored exactly once (rows against acknowledgements,
   no instance storing a record another had stored), each device's records all stored by one
   instance, the one the design names (crc32 of the venue, or of its community, modulo 2), the
   split, and the throughput against one instance (ratio). On a plain broker each instance
   receives every message and decodes it before leaving the other's share, so two instances on
   one machine do not double the throughput; the point is more machines, not more processes here.
   Beside it: registered devices that never report (one per venue), aged past three heartbeats,
   and which instance reports each of them offline;
3. instance 2/2 killed (SIGKILL), then more load: 1/2 goes on storing its own share and none of the
   other's (nothing fails over: the dead instance's messages wait in its broker session); 2/2
   restarted, its backlog is stored and nothing is lost.
The last line is one JSON object with the figures and the checks; exit status 1 if a check
failed.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg

from bench._support import EngineChild, load_average, postgres_server, say, scratch_database
from bench.ingest_throughput import load_registry
from bench.soak import count_rows
from firewatch.embedded.load_broker import private_mosquitto
from firewatch.ingest.partition import Partition, PartitionKey
from firewatch.simulators.load import (
    LoadDevice,
    LoadReport,
    generate_devices,
    registry_document,
    run_load,
)

SILENT_EVERY = 50
"""One device in this many is registered but never reports (one per venue: 50 devices each)."""


def where(devices: tuple[LoadDevice, ...]) -> dict[str, dict[str, str]]:
    """Device id -> venue and community in the registry `load_registry` imports."""
    document = registry_document(devices)
    community = {v["venue_id"]: v["community"] for v in document["venues"]}
    return {
        d["device_id"]: {"venue": d["venue_id"], "community": community[d["venue_id"]]}
        for d in document["devices"]
    }


def wait_stored(engines: list[EngineChild], target: int, timeout_s: float) -> dict[str, Any]:
    """Until the instances have stored `target` records between them; when, and the samples."""
    deadline = time.monotonic() + timeout_s
    while True:
        samples = [e.sample("peek") for e in engines]
        stored = sum(s["stored"] for s in samples)
        if stored >= target or time.monotonic() > deadline:
            return {"t": max(s["t"] for s in samples), "stored": stored, "samples": samples}
        time.sleep(0.05)


def burst(
    engines: list[EngineChild], port: int, devices: tuple[LoadDevice, ...], rate: float, s: float
) -> tuple[LoadReport, dict[str, Any]]:
    """Offer `rate` for `s` seconds; stored/s from the common start to the last record stored."""
    before = sum(e.sample()["stored"] for e in engines)
    cpu_before = [e.sample("peek")["cpu_s"] for e in engines]
    report = run_load("127.0.0.1", port, devices, rate, s, client_id="partitions-load")
    started = time.time() - report.duration_s  # the publishers' common start
    done = wait_stored(engines, before + report.acked, 120)
    elapsed = done["t"] - started
    figures = {
        "offered_per_s": round(report.achieved_per_s),
        "acked": report.acked,
        "stored": done["stored"] - before,
        "stored_per_s": round((done["stored"] - before) / elapsed),
        "seconds": round(elapsed, 2),
        "engine_cpu_s": [
            round(d["cpu_s"] - c, 2) for d, c in zip(done["samples"], cpu_before, strict=True)
        ],
        "p99_lag_ms": [e.sample()["p99_lag_ms"] for e in engines],
        "load_avg": load_average(),
    }
    say(f"  {json.dumps(figures)}")
    return report, figures


def owners_by_design(world: dict[str, dict[str, str]], key: PartitionKey) -> dict[str, int]:
    """Device id -> the partition (0 or 1) that ingest/partition.py says owns it."""
    parts = [Partition.parse(spec, key) for spec in ("1/2", "2/2")]
    field = "venue" if key is PartitionKey.VENUE else "community"
    return {
        device: next(i for i, p in enumerate(parts) if p.owns_key(where[field]))
        for device, where in world.items()
    }


def ownership(
    per_instance: list[dict[str, int]],
    report: LoadReport,
    world: dict[str, dict[str, str]],
    owner: dict[str, int],
) -> dict[str, Any]:
    """Who stored each device's records, against the report and the design."""
    acked = {d.device_id: d.acked for d in report.devices}
    stored_by = {
        device: [i for i, counts in enumerate(per_instance) if counts.get(device)]
        for device in acked
    }
    venues: dict[str, set[int]] = {}
    for device, instances in stored_by.items():
        venues.setdefault(world[device]["venue"], set()).update(instances)
    shares = [sum(counts.values()) for counts in per_instance]
    return {
        "devices": len(acked),
        "devices_one_instance": sum(len(i) == 1 for i in stored_by.values()),
        "devices_all_records": sum(
            len(i) == 1 and per_instance[i[0]][d] == acked[d] for d, i in stored_by.items()
        ),
        "devices_owner_as_designed": sum(i == [owner[d]] for d, i in stored_by.items()),
        "venues": len(venues),
        "venues_one_instance": sum(len(i) == 1 for i in venues.values()),
        "records_per_instance": shares,
        "split": round(min(shares) / max(shares), 3) if max(shares) else None,
        "devices_per_instance": [sum(1 for c in counts.values() if c) for counts in per_instance],
    }


def age_silent(url: str, silent: list[str]) -> None:
    """Registered an hour ago: past three heartbeats, so the next liveness sweep finds them."""
    with psycopg.connect(url) as conn:
        conn.execute(
            "UPDATE device SET updated_at = now() - interval '1 hour' WHERE device_id = ANY(%s)",
            (silent,),
        )


def one_instance(
    server: str, tmp: Path, everyone: tuple[LoadDevice, ...], devices: tuple[LoadDevice, ...],
    rate: float, seconds: float,
) -> dict[str, Any]:  # fmt: skip
    # A broker of its own: a stopped instance's session would go on queueing the later bursts.
    with private_mosquitto() as mosq, scratch_database(server, "one") as url:
        load_registry(url, everyone, tmp)
        one = EngineChild(url, mosq.port, tmp, "p1of1")
        try:
            one.start()
            say(f"one instance: {rate:,.0f}/s offered for {seconds:.0f} s")
            _, single = burst([one], mosq.port, devices, rate, seconds)
            one.stop()
        finally:
            one.close()
    return single


def liveness(
    engines: list[EngineChild], silent: list[str], owner: dict[str, int]
) -> dict[str, Any]:
    """Every silent device reported offline once; by which instance?"""
    deadline = time.monotonic() + 25  # the sweep runs every 10 s in each instance
    while True:
        offline = [e.sample("devices")["offline"] for e in engines]
        if sum(map(len, offline)) >= len(silent) or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    reported = Counter(d for o in offline for d in o)
    found = {
        "silent": len(silent),
        "reported": len(reported),
        "reported_twice": sum(n > 1 for n in reported.values()),
        "per_instance": [len(o) for o in offline],
        "by_other_instance": sum(owner[d] != i for i, o in enumerate(offline) for d in o),
    }
    say(f"  silent devices reported offline: {json.dumps(found)}")
    return found


def kill_one(
    engines: list[EngineChild], url: str, port: int, devices: tuple[LoadDevice, ...],
    owner: dict[str, int], rate: float, seconds: float,
) -> dict[str, Any]:  # fmt: skip
    """Kill 2/2, load; 1/2 stores its share and nothing else; restart 2/2, it catches up."""
    say(f"instance 2/2 killed; {rate:,.0f}/s for {seconds:.0f} s")
    engines[1].kill()
    rows_before = count_rows(url)
    mine = engines[0].sample("devices")["devices"]
    alone = run_load("127.0.0.1", port, devices, rate, seconds, client_id="partitions-killed")
    share = sum(d.acked for d in alone.devices if owner[d.device_id] == 0)
    survivor = wait_stored(engines[:1], sum(mine.values()) + share, 60)
    time.sleep(1.0)  # anything of the other share would arrive in this second too
    after = engines[0].sample("devices")["devices"]
    rows_alone = count_rows(url)
    restarted = time.time()
    engines[1].start()  # the same client id: the same broker session, holding what it missed
    recovered = wait_stored(engines[1:], alone.acked - share, 120)
    killed = {
        "acked": alone.acked,
        "survivor_share": share,
        "survivor_stored": survivor["stored"] - sum(mine.values()),
        "taken_from_dead": sum(after[d] - mine.get(d, 0) for d in after if owner.get(d) == 1),
        "rows_while_dead": rows_alone - rows_before,
        "restart_to_caught_up_s": round(recovered["t"] - restarted, 2),
        "rows_after_restart": count_rows(url) - rows_before,
    }
    say(f"  {json.dumps(killed)}")
    return killed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a run of under a minute")
    parser.add_argument("--devices", type=int, default=6000)
    parser.add_argument("--key", choices=[k.value for k in PartitionKey], default="venue")
    parser.add_argument("--rate", type=float, default=24_000, help="offered in the bursts")
    args = parser.parse_args()
    seconds = 3.0 if args.quick else 15.0
    killed_s = 3.0 if args.quick else 10.0
    key = PartitionKey(args.key)
    everyone = generate_devices(args.devices)
    silent = [d.device_id for i, d in enumerate(everyone) if i % SILENT_EVERY == SILENT_EVERY - 1]
    devices = tuple(d for d in everyone if d.device_id not in set(silent))
    with (
        tempfile.TemporaryDirectory(prefix="fw-partitions-") as tmp_name,
        postgres_server(Path(tmp_name)) as server,
    ):
        tmp = Path(tmp_name)
        say(f"{len(devices):,} devices reporting, {len(silent)} silent; partition key {key}")
        single = one_instance(server, tmp, everyone, devices, args.rate, seconds)
        with private_mosquitto() as mosq, scratch_database(server, "two") as url:
            load_registry(url, everyone, tmp)
            world = where(everyone)
            owner = owners_by_design(world, key)
            engines = [
                EngineChild(url, mosq.port, tmp, f"p{k}of2", partition=f"{k}/2",
                            partition_key=key.value, per_device=True)
                for k in (1, 2)
            ]  # fmt: skip
            try:
                for engine in engines:
                    engine.start()
                age_silent(url, silent)
                say(f"two instances: {args.rate:,.0f}/s offered for {seconds:.0f} s")
                report, double = burst(engines, mosq.port, devices, args.rate, seconds)
                rows = count_rows(url)
                counts = [e.sample("devices") for e in engines]
                owned = ownership([c["devices"] for c in counts], report, world, owner)
                say(f"  {json.dumps(owned)}")
                offline = liveness(engines, silent, owner)
                killed = kill_one(engines, url, mosq.port, devices, owner, args.rate / 4, killed_s)
                for engine in engines:
                    engine.stop()
            except BaseException:
                for engine in engines:
                    say(f"{engine.name} log tail:\n{engine.log_tail()}")
                raise
            finally:
                for engine in engines:
                    engine.close()
    checks = {
        "stored_once": rows == report.acked == double["stored"],
        "no_duplicates": all(c["duplicates"] == 0 for c in counts),
        "one_instance_per_device": owned["devices_all_records"] == owned["devices"]
        and owned["venues_one_instance"] == owned["venues"],
        "owner_as_designed": owned["devices_owner_as_designed"] == owned["devices"],
        "survivor_kept_its_share": killed["survivor_stored"] == killed["survivor_share"],
        "survivor_took_nothing_else": killed["taken_from_dead"] == 0
        and killed["rows_while_dead"] == killed["survivor_share"],
        "nothing_lost_after_restart": killed["rows_after_restart"] == killed["acked"],
        # Not storage, but the same promise (ingest/partition.py: a venue's devices are all
        # judged by one instance): a device gone offline is news for its owner's rules.
        "offline_reported_by_owner": offline["reported"] == offline["silent"]
        and offline["by_other_instance"] == 0,
    }
    figures = {
        "one_instance_per_s": single["stored_per_s"],
        "two_partitions_per_s": double["stored_per_s"],
        "ratio": round(double["stored_per_s"] / single["stored_per_s"], 2),
        "offered_per_s": double["offered_per_s"],
        "acked": report.acked,
        "split": owned["split"],
        "records_per_instance": owned["records_per_instance"],
        "devices_per_instance": owned["devices_per_instance"],
        "venues": owned["venues"],
        "key": key.value,
        "engine_cpu_s": {"one": single["engine_cpu_s"], "two": double["engine_cpu_s"]},
        "load_avg": {"one": single["load_avg"], "two": double["load_avg"]},
        "offline_reported_by_other_instance": offline["by_other_instance"],
        "offline": offline,
        "killed": killed,
        "checks": checks,
        "cpus": os.cpu_count(),
        "quick": args.quick,
    }
    print(json.dumps(figures), flush=True)
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
