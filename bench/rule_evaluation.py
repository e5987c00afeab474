"""Rule evaluation: records per second through the default library, against a naive baseline.

    python bench/rule_evaluation.py [--quick] [--devices 10000] [--rounds 60]

One process, one core, no broker and no database: the measure is the rules stage alone.
1. A recorded stream: 10,000 devices of the four kinds (`simulators.load`: 18 readings : 1
   event : 1 status), each reporting every 60 s of device time, decoded once by ingest's own
   `decode` into the records the engine receives, in batches of 2,000.
2. firewatch: the `RuleEngine` with the default library (streaming state: ring buffers,
   running minima, last-n counts), timed over the whole stream; then its state per device.
3. baseline: the naive design — per rule and subject a list of the raw records of its window,
   re-scanned on every record (every rule looks at every record), over the first batches of
   the same stream, for at most `--baseline-s` seconds. Its hits on those records are compared
   with the engine's on the same records.
The recorded stream is frozen out of the garbage collector's way (`gc.freeze`) before either is
timed: hundreds of thousands of input records are an artifact of replaying, not engine state.
The last line is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from firewatch.ingest.decode import decode
from firewatch.ingest.records import Decoded, DeviceInfo, Rejected, StaticRegistry, VenueInfo
from firewatch.ingest.stream import Batch
from firewatch.ingest.timestamps import DecodeLimits
from firewatch.kernel import topics
from firewatch.kernel.contract import VenueType
from firewatch.rules.compile import listens
from firewatch.rules.conditions import compile_condition
from firewatch.rules.detectors.base import LocalDay
from firewatch.rules.directory import Directory
from firewatch.rules.engine import RuleEngine, arrival
from firewatch.rules.loader import DEFAULT_DIR, Library, load_library
from firewatch.rules.spec import Condition, Params, Rise, RuleSpec, RuleType, Source
from firewatch.simulators.load import generate_devices, message_type_for, payload
from firewatch.simulators.load.payloads import epoch_ms_bytes

ZONE = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 5, 1, 2, 0, tzinfo=UTC)
SOURCES = {"Reading": Source.READING, "DeviceEvent": Source.EVENT, "DeviceStatus": Source.STATUS,
           "VenueScan": Source.SCAN, "Availability": Source.OFFLINE}  # fmt: skip


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def recorded_stream(devices: int, rounds: int) -> tuple[list[Batch], Directory]:
    """`rounds` reports of every device, 60 s apart, decoded; venues of 10 devices each."""
    fleet = generate_devices(devices)
    kinds = list(VenueType)
    venue_of = {d.device_id: f"V{n // 10:05d}" for n, d in enumerate(fleet)}
    venue_types = {v: kinds[int(v[1:]) % len(kinds)].value for v in venue_of.values()}
    infos = [DeviceInfo(d.device_id, d.kind, venue_of[d.device_id], "C", "G", "MS01", 60)
             for d in fleet]  # fmt: skip
    registry = StaticRegistry(infos, [VenueInfo(v, "C", "G", "MS01") for v in venue_types])
    limits = DecodeLimits(max_future_s=300, max_age_s=10**9)
    records: list[Decoded] = []
    for r in range(rounds):
        for n, d in enumerate(fleet):
            at = START + timedelta(seconds=60 * r + 60 * n / devices)
            body = payload(d.kind, r, epoch_ms_bytes(int(at.timestamp() * 1000)), n)
            topic = topics.device(d.kind, d.device_id, message_type_for(d.kind, r))
            record = decode(topic, body, at, registry, limits)
            assert not isinstance(record, Rejected), record
            records.append(record)
    chunks = [tuple(records[i : i + 2000]) for i in range(0, len(records), 2000)]
    batches = [Batch(chunk, (), chunk[-1].received_at) for chunk in chunks]
    return batches, Directory(venue_types, {d.device_id: 60 for d in fleet})


# --- the naive baseline -------------------------------------------------------------------------


class Naive:
    """Every rule keeps each subject's raw records within its window and re-scans them."""

    def __init__(self, library: Library, directory: Directory) -> None:
        self.rules = library.rules
        self.venue_types = directory.venue_types
        self.day = LocalDay(ZONE)
        self.history: dict[tuple[str, str], list[tuple[float, Any]]] = {}
        self.fired: set[tuple[str, str]] = set()
        self.checks = {r.id: compile_condition(r.params.when) for r in library.rules}
        self.hits = 0

    def evaluate(self, batch: Batch) -> None:
        for record in sorted(batch.records, key=arrival):
            source = SOURCES[type(record).__name__]
            kind, event = getattr(record, "kind", ""), getattr(record, "event", "")
            t = (getattr(record, "ts", None) or record.received_at).timestamp()
            for spec in self.rules:  # no index: every rule asks whether it listens
                if not listens(spec, source, kind, event):
                    continue
                params = spec.params_for(self.venue_types.get(record.venue_id))
                if params is not None and (
                    params.during is None or self.day.inside(params.during, t)
                ):
                    self.hits += self._rule(spec, params, record, t)

    def _window(
        self, key: tuple[str, str], t: float, span: float, item: Any
    ) -> list[tuple[float, Any]]:
        kept = [x for x in self.history.get(key, []) if x[0] >= t - span]  # re-scan, re-build
        kept.append((t, item))
        self.history[key] = kept
        return kept

    def _edge(self, key: tuple[str, str], now: bool) -> int:
        if not now:
            self.fired.discard(key)
            return 0
        if key in self.fired:
            return 0
        self.fired.add(key)
        return 1

    def _rule(self, spec: RuleSpec, p: Params, r: Any, t: float) -> int:
        check = self.checks[spec.id]
        port = getattr(r, "port", None) if spec.match.source is Source.READING else None
        key = (spec.id, f"{getattr(r, 'device_id', r.venue_id)}#{port}")
        kind = spec.type
        if kind is RuleType.THRESHOLD:
            if spec.match.source is Source.EVENT:
                return int(check(r))
            return self._edge(key, check(r))
        if kind is RuleType.RATE_OF_RISE:
            value = getattr(r, p.field)
            if value is None or not check(r):
                self.history.pop(key, None)
                return self._edge(key, False)
            window = self._window(key, t, p.window_s, value)
            t0, v0 = window[0]
            if t - t0 < p.min_span_s:
                return 0
            return self._edge(key, (value - v0) * 60 / (t - t0) >= p.rate_per_min)
        if kind in (RuleType.PERSISTENCE, RuleType.UNCHANGED):
            item: Any = tuple(getattr(r, f) for f in p.fields) if p.fields else check(r)
            window = self._window(key, t, p.held_s * 2, item)
            start = t
            for tt, seen in reversed(window):  # back to where the condition began
                if (seen != item) if p.fields else not seen:
                    break
                start = tt
            ok = (None not in item) if p.fields else bool(item)
            return self._edge(key, ok and t - start >= p.held_s)
        if kind is RuleType.COINCIDENCE:
            return self._coincidence(spec, p, r, t, key)
        if kind is RuleType.COUNT:
            if not check(r):
                return 0
            subject = {"device": r.device_id, "community": r.community}.get(spec.scope, r.venue_id)
            window = self._window((spec.id, subject), t, p.window_s, 1)
            if len(window) >= p.count:
                self.history[(spec.id, subject)] = []
                return 1
            return 0
        if kind is RuleType.SCAN_FAILED:
            return sum(1 for item in r.items if not item.ok)
        return 0  # absence: ingest's WentOffline and Last Wills; none in this stream

    def _coincidence(
        self, spec: RuleSpec, p: Params, r: Any, t: float, key: tuple[str, str]
    ) -> int:
        if spec.scope != "device":
            if not self.checks[spec.id](r):
                return 0
            window = self._window((spec.id, r.venue_id), t, p.window_s, r.device_id)
            return self._edge((spec.id, r.venue_id), len({d for _, d in window}) >= p.need)
        longest = max(
            [p.window_s] + [c.within_s + p.window_s for c in p.criteria if isinstance(c, Rise)]
        )
        window = self._window(key, t, longest, r)
        held = 0
        for c in p.criteria:
            recent = [(tt, x) for tt, x in window if tt >= t - p.window_s]
            if isinstance(c, Condition):
                check = compile_condition(c)
                held += any(check(x) for _, x in recent)
                continue
            for tt, x in recent:  # each record's rise, recomputed from its own window
                v = getattr(x, c.field)
                low = min((getattr(y, c.field) for ty, y in window
                           if tt - c.within_s <= ty <= tt and getattr(y, c.field) is not None),
                          default=None)  # fmt: skip
                if v is not None and low is not None and v - low >= c.by:
                    held += 1
                    break
        return self._edge(key, held >= p.need)


# --- the run ------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a shorter stream (under a minute)")
    parser.add_argument("--devices", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, help="reports per device (default 60, quick 20)")
    parser.add_argument("--baseline-s", type=float, help="time given to the baseline")
    args = parser.parse_args()
    rounds = args.rounds or (20 if args.quick else 60)
    baseline_s = args.baseline_s or (8.0 if args.quick else 30.0)
    library = load_library(DEFAULT_DIR)
    say(f"recording: {args.devices} devices x {rounds} reports, decoded by ingest")
    started = time.perf_counter()
    batches, directory = recorded_stream(args.devices, rounds)
    records = sum(len(b.records) for b in batches)
    say(f"  {records} records in {time.perf_counter() - started:.1f} s")
    # The recorded stream is input, not state: keep the collector from re-scanning it.
    gc.collect()
    gc.freeze()

    say(f"firewatch: the default library ({len(library.rules)} rules), streaming state")
    engine = RuleEngine(library, zone=ZONE, directory=directory)
    hits_at: list[int] = []
    started = time.perf_counter()
    for batch in batches:
        hits_at.append(len(engine.evaluate(batch)))
    elapsed = time.perf_counter() - started
    per_s = records / elapsed
    state = engine.state_bytes() / args.devices
    say(
        f"  {per_s:,.0f} records/s; {sum(hits_at)} findings; {state:,.0f} bytes of state per device"
    )

    say(f"baseline: every rule re-scans its window, for at most {baseline_s:.0f} s")
    naive = Naive(library, directory)
    done = 0
    started = time.perf_counter()
    for batch in batches:
        naive.evaluate(batch)
        done += 1
        if time.perf_counter() - started > baseline_s:
            break
    base_elapsed = time.perf_counter() - started
    base_records = sum(len(b.records) for b in batches[:done])
    base_per_s = base_records / base_elapsed
    say(f"  {base_per_s:,.0f} records/s over {base_records} records; {naive.hits} findings")
    figures = {
        "readings_per_s": round(per_s),
        "baseline_per_s": round(base_per_s),
        "ratio": round(per_s / base_per_s, 1),
        "state_bytes_per_device": round(state),
        "devices": args.devices,
        "records": records,
        "rules": len(library.rules),
        "findings": sum(hits_at),
        "baseline_records": base_records,
        "baseline_findings": naive.hits,
        "findings_on_baseline_records": sum(hits_at[:done]),
        "quick": args.quick,
    }
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
