"""10,000 fuzzed messages through a running engine, interleaved with good readings.

Hypothesis makes them, seeded (the same messages on every run of this file): random bytes and
random JSON on real device topics, contract-shaped messages with wrong types, impossible values,
missing or extra fields, bad timestamps and foreign identities, plain-text availability that is
not quite `online`, and topics of unknown kinds, ids and message types. What each one must
become is decided by the engine's own pure decoder (`ingest.decode`), so a fuzzed message that
happens to be valid is expected stored like any other. The engine is the real `firewatch run`
on a private broker: it answers /healthz throughout, keeps every bad message with its reason,
and stores every good one exactly once.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from functools import cache
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from firewatch.ingest import specs
from firewatch.ingest.decode import DecodeLimits, decode
from firewatch.ingest.fields import BOUNDS, Bound
from firewatch.ingest.reasons import RejectReason
from firewatch.ingest.records import (
    Availability,
    DeviceEvent,
    DeviceInfo,
    DeviceStatus,
    Reading,
    Rejected,
    StaticRegistry,
    VenueInfo,
    VenueScan,
)
from firewatch.kernel import topics
from firewatch.kernel.contract import CHARGING_STATES, CHECKLIST_ITEMS, SCAN_TYPES, DeviceKind
from firewatch.kernel.kinds import EVENTS
from tests.ingest.publish import publish_all
from tests.ingest.seed import DEVICES, seed_registry
from tests.reliability.engine_process import EngineProcess
from tests.support.fixtures import PrivateMosquittoFactory

FUZZED = 10_000
GOOD_EVERY = 10  # one good reading after every ten fuzzed messages
GOOD_DEVICE = "GOOD-1"  # never fuzzed: its readings are the control group
VENUES = ("V-HOME", "V-SHED", "V-TOWER", "V-SHOP")  # tests.ingest.seed's venues
LIMITS = DecodeLimits(max_future_s=300, max_age_s=7 * 86400)  # the engine's defaults
SLACK = timedelta(minutes=2)  # from making a message to the engine receiving it, at most
OURS = {RejectReason.ENGINE_TOPIC, RejectReason.UNEXPECTED_COMMAND}  # dropped, not kept
REGISTRY = StaticRegistry(
    [
        DeviceInfo(d, DeviceKind(kind), venue, "Xinhua", "G-03", "MS-1", heartbeat_s=60)
        for d, (kind, venue) in {**DEVICES, GOOD_DEVICE: ("smoke", "V-HOME")}.items()
    ],
    [VenueInfo(v, "Xinhua", "G-03", "MS-1") for v in VENUES],
)
TYPES = {  # the message types each kind sends
    DeviceKind.SMOKE: ("reading", "event", "status", "availability"),
    DeviceKind.CHARGING: ("reading", "event", "status", "availability"),
    DeviceKind.ELEVATOR: ("event", "status", "availability"),
    DeviceKind.OCCUPANCY: ("reading", "status", "availability"),
}
DEVICE_TOPICS = sorted(
    (kind, device, mtype)
    for device, (kind, _) in DEVICES.items()
    for mtype in TYPES[DeviceKind(kind)]
)
INTEGERS = {"port", "people", "still_minutes", "floor", "seq"}
BOOLEANS = {"alarm", "occupied", "blocked", "ok"}
CHOICES = {"state": sorted(CHARGING_STATES), "scan_type": sorted(SCAN_TYPES)}

# ---- what hypothesis makes ------------------------------------------------------------------

JSON_SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12)
JSON = st.recursive(
    JSON_SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=8,
)
# A topic level MQTT accepts (no wildcard, no control or unassigned character) but we may not.
LEVEL = st.text(
    st.characters(codec="utf-8", categories=["L", "N", "P", "S", "Zs"], exclude_characters="+#/"),
    max_size=12,
)
ANY_ID = (
    LEVEL
    | st.from_regex(r"[A-Za-z0-9_-]{1,64}", fullmatch=True)
    | st.sampled_from([*DEVICES, *VENUES])
)


@cache  # a strategy is validated when first drawn from: make each one once
def valid_value(key: str) -> st.SearchStrategy[Any]:
    """A value the contract accepts for a field."""
    if key in BOOLEANS:
        return st.booleans()
    if key in CHOICES:
        return st.sampled_from(CHOICES[key])
    if key in BOUNDS:
        b = BOUNDS[key]
        if key in INTEGERS:
            return st.integers(int(b.lo), int(b.hi))
        return st.floats(b.lo, b.hi) | st.integers(int(b.lo), int(b.hi))
    return st.text(min_size=1, max_size=16)


@cache
def outside(b: Bound, integer: bool) -> st.SearchStrategy[Any]:
    """A value beyond a physical bound."""
    if integer:
        return st.integers(max_value=int(b.lo) - 1) | st.integers(min_value=int(b.hi) + 1)
    return st.floats(max_value=b.lo, exclude_max=True) | st.floats(min_value=b.hi, exclude_min=True)


def timestamps(now: datetime) -> st.SearchStrategy[Any]:
    """Mostly within what the engine accepts, sometimes far outside; epoch ms or RFC 3339."""
    offset = st.integers(-7 * 86400 + 600, 180) | st.integers(-(10**9), 10**9)
    zone = st.sampled_from([UTC, timezone(timedelta(hours=8)), timezone(timedelta(hours=-5))])
    as_ms = offset.map(lambda s: int((now.timestamp() + s) * 1000))
    as_text = st.builds(
        lambda s, z: (now + timedelta(seconds=s)).astimezone(z).isoformat(), offset, zone
    )
    return as_ms | as_text


def fields_of(kind: DeviceKind, mtype: str, draw: Callable[[Any], Any]) -> dict[str, Any]:
    """The listed fields of a valid message of this kind and type: required ones, and some of
    the optional ones."""
    if mtype == "reading":
        table = specs.READING[kind]
        out: dict[str, Any] = {}
    elif mtype == "status":
        table, out = specs.STATUS, {}
    else:
        name = draw(st.sampled_from(sorted(EVENTS[kind])))
        table, out = specs.EVENT[kind][name], {"event": name}
    for spec in table:
        if spec.required or draw(st.booleans()):
            out[spec.key] = draw(valid_value(spec.key))
    return out


def scan_fields(draw: Callable[[Any], Any]) -> dict[str, Any]:
    item = st.fixed_dictionaries(
        {"item": st.sampled_from(CHECKLIST_ITEMS) | st.text(min_size=1, max_size=12),
         "ok": st.booleans()},
        optional={"note": st.text(max_size=20)},
    )  # fmt: skip
    out = {"scan_type": draw(valid_value("scan_type")), "inspector": draw(valid_value("inspector")),
           "items": draw(st.lists(item, max_size=4))}  # fmt: skip
    if out["scan_type"] == "rectification" or draw(st.booleans()):
        out["case_id"] = draw(valid_value("case_id"))
    return out


MUTATIONS = ("none", "drop", "retype", "null", "out_of_range", "word", "extra", "identity", "ts",
             "seq")  # fmt: skip


def mutate(obj: dict[str, Any], what: str, draw: Callable[[Any], Any]) -> None:
    """One fault (or none) of the kind real firmware makes."""
    keys = sorted(obj)
    if what == "drop" and keys:
        del obj[draw(st.sampled_from(keys))]
    elif what in ("retype", "null") and keys:
        obj[draw(st.sampled_from(keys))] = None if what == "null" else draw(JSON)
    elif what == "out_of_range":
        bounded = [k for k in keys if k in BOUNDS]
        if bounded:
            key = draw(st.sampled_from(bounded))
            obj[key] = draw(outside(BOUNDS[key], key in INTEGERS))
    elif what == "word":
        named = [k for k in keys if k in CHOICES or k == "event"]
        if named:
            obj[draw(st.sampled_from(named))] = draw(st.text(max_size=12))
    elif what == "extra":
        obj[draw(st.text(max_size=12))] = draw(JSON)
    elif what == "identity":
        obj[draw(st.sampled_from(["device_id", "venue_id"]))] = draw(ANY_ID | JSON)
    elif what == "ts":
        obj["ts"] = draw(JSON | st.text(max_size=30))
    elif what == "seq":
        obj["seq"] = draw(st.integers() | JSON)


def encode(obj: Any, draw: Callable[[Any], Any]) -> bytes:
    # Lone surrogates in a string become invalid UTF-8 instead of an exception here.
    text = json.dumps(obj, ensure_ascii=draw(st.booleans()), allow_nan=True)
    return text.encode("utf-8", "surrogatepass")


def fuzz(now: datetime) -> st.SearchStrategy[tuple[str, bytes]]:
    """(topic, payload) of every shape of fault, and some valid messages among them."""

    stamps = timestamps(now)

    @st.composite
    def shaped(draw: st.DrawFn) -> tuple[str, bytes]:
        if draw(st.integers(0, 9)) == 0:
            venue = draw(st.sampled_from(VENUES))
            topic, obj = topics.scan(venue), scan_fields(draw)
        else:
            kind, device, mtype = draw(st.sampled_from(DEVICE_TOPICS))
            if mtype == "availability":
                word = st.sampled_from([b"online", b"offline", b" offline\n", b"", b"Online"])
                return topics.availability(kind, device), draw(word | st.binary(max_size=12))
            topic, obj = (
                topics.device(kind, device, mtype),
                fields_of(DeviceKind(kind), mtype, draw),
            )
        obj = {"ts": draw(stamps), "seq": draw(valid_value("seq")), **obj}
        for what in draw(st.lists(st.sampled_from(MUTATIONS), min_size=1, max_size=2)):
            mutate(obj, what, draw)
        return topic, encode(obj, draw)

    known = st.sampled_from(DEVICE_TOPICS).map(lambda t: topics.device(*t))
    wild = st.builds(topics.device, LEVEL | st.sampled_from(["smoke", "venue", "engine", "gas"]),
                     ANY_ID, LEVEL | st.sampled_from(["reading", "set", "scan", "availability"]))  # fmt: skip
    levels = st.lists(LEVEL, max_size=6).map(lambda ls: "/".join([topics.PREFIX, *ls]))
    # Around the 4 KiB limit, repeated: hypothesis draws random bytes one at a time, slowly.
    large = st.builds(lambda chunk, size: (chunk * size)[:size], st.binary(min_size=1, max_size=16),
                      st.integers(4090, 4200))  # fmt: skip
    body = st.binary(max_size=120) | large | JSON.map(lambda v: json.dumps(v).encode())
    return st.one_of(
        shaped(),
        st.tuples(known, body),
        st.tuples(wild | levels, body | shaped().map(lambda m: m[1])),
    )


def generate(now: datetime, count: int) -> list[tuple[str, bytes]]:
    """`count` fuzzed messages, the same ones on every run (a fixed seed, no example database).
    Each example is a list of 20: hypothesis's per-example cost is then paid 20 times less."""
    made: list[tuple[str, bytes]] = []

    @settings(max_examples=count // 20, derandomize=True, database=None, deadline=None,
              phases=[Phase.generate], suppress_health_check=list(HealthCheck))  # fmt: skip
    @given(st.lists(fuzz(now), min_size=20, max_size=20, unique=True))
    def collect(messages: list[tuple[str, bytes]]) -> None:
        made.extend(messages)

    collect()
    return made[:count]


# ---- what the engine must make of them --------------------------------------------------------


@dataclass
class Expected:
    rejected: Counter[tuple[str, bytes, str]] = field(default_factory=Counter)
    keys: dict[str, set[tuple[Any, ...]]] = field(default_factory=dict)
    availability: int = 0
    ambiguous: int = 0

    def add(self, topic: str, payload: bytes, now: datetime) -> bool:
        """What decoding makes of it, received now or up to SLACK later; False when the two
        differ (a timestamp on the edge of what is accepted): such a message is not used."""
        first = decode(topic, payload, now, REGISTRY, LIMITS)
        later = decode(topic, payload, now + SLACK, REGISTRY, LIMITS)
        if type(first) is not type(later) or getattr(first, "reason", None) != getattr(
            later, "reason", None
        ):
            self.ambiguous += 1
            return False
        if isinstance(first, Rejected):
            if first.reason not in OURS:
                self.rejected[(topic, payload, str(first.reason))] += 1
        elif isinstance(first, Availability):
            self.availability += 1
        else:
            table, subject = {
                Reading: ("reading", "device_id"), DeviceEvent: ("device_event", "device_id"),
                DeviceStatus: ("device_status", "device_id"), VenueScan: ("venue_scan", "venue_id"),
            }[type(first)]  # fmt: skip
            key = (getattr(first, subject), first.ts, first.seq)
            self.keys.setdefault(table, set()).add(key)
        return True


def stored_keys(conn: psycopg.Connection, table: str) -> set[tuple[Any, ...]]:
    """(device or venue, ts, seq) of every row: unique in each table, so a set says it all."""
    subject = "venue_id" if table == "venue_scan" else "device_id"
    return {tuple(r) for r in conn.execute(f"SELECT {subject}, ts, seq FROM {table}")}


class HealthWatch(threading.Thread):
    """Asks /healthz every 100 ms until stopped; keeps every answer that was not a 200."""

    def __init__(self, port: int) -> None:
        super().__init__(daemon=True)
        self.url = f"http://127.0.0.1:{port}/healthz"
        self.asked = 0
        self.bad: list[str] = []
        self.stop = threading.Event()

    def run(self) -> None:
        with httpx.Client(timeout=5) as client:
            while not self.stop.wait(0.1):
                self.asked += 1
                try:
                    answer = client.get(self.url)
                except httpx.HTTPError as exc:
                    self.bad.append(repr(exc))
                else:
                    if answer.status_code != 200:  # with what the engine says is wrong
                        self.bad.append(f"{answer.status_code} {answer.text[:300]}")


@pytest.mark.slow
def test_ten_thousand_fuzzed_messages_are_each_kept_with_a_reason_and_the_good_stored_once(
    fresh_db: str, private_mosquitto: PrivateMosquittoFactory, tmp_path: Path
) -> None:
    now = datetime.now(UTC)
    fuzzed = generate(now, FUZZED + 200)  # a few more, for those on a timestamp edge
    expected = Expected()
    messages: list[tuple[str, bytes]] = []
    good = 0
    for topic, payload in fuzzed:
        if good == FUZZED // GOOD_EVERY and len(messages) - good >= FUZZED:
            break
        if not expected.add(topic, payload, now):
            continue
        messages.append((topic, payload))
        if (len(messages) - good) % GOOD_EVERY == 0:
            body = (
                f'{{"ts":{int(now.timestamp() * 1000)},"seq":{good},"smoke_obs":0.1,"alarm":false}}'
            )
            messages.append((topics.reading("smoke", GOOD_DEVICE), body.encode()))
            assert expected.add(*messages[-1], now)
            good += 1
    assert len(messages) - good == FUZZED and good == FUZZED // GOOD_EVERY
    # The fuzz reaches deep: most of the decoder's reasons, and valid messages among the bad.
    assert len({reason for _, _, reason in expected.rejected}) >= 20
    assert len(expected.keys["reading"]) > good

    broker = private_mosquitto()
    seed_registry(fresh_db, {**DEVICES, GOOD_DEVICE: ("smoke", "V-HOME")})
    engine = EngineProcess(fresh_db, broker.url, f"fw-fuzz-{secrets.token_hex(3)}", tmp_path)
    health = HealthWatch(engine.api_port)
    try:
        engine.start()
        health.start()
        publish_all(broker.port, messages)
        want_rejected = sum(expected.rejected.values())
        want_readings = len(expected.keys["reading"])
        deadline = time.monotonic() + 45
        while time.monotonic() < deadline:
            with psycopg.connect(fresh_db) as conn:
                counts = conn.execute(
                    "SELECT (SELECT count(*) FROM rejected_message), (SELECT count(*) FROM reading)"
                ).fetchone()
            if counts == (want_rejected, want_readings):
                break
            time.sleep(0.2)
        time.sleep(0.5)  # anything beyond what is expected would show up now
        health.stop.set()
        health.join(10)
        assert engine.process is not None and engine.process.poll() is None, engine.log_tail()
        final = httpx.get(health.url, timeout=5)
        with psycopg.connect(fresh_db) as conn:
            rows = conn.execute(
                "SELECT topic, payload, reason, detail FROM rejected_message"
            ).fetchall()
            tables = {
                t: stored_keys(conn, t)
                for t in ("reading", "device_event", "device_status", "venue_scan")
            }
            availability = conn.execute("SELECT count(*) FROM device_availability").fetchone()
    finally:
        health.stop.set()
        engine.stop()

    assert final.status_code == 200 and health.bad == [], health.bad
    assert health.asked > 10
    got = Counter((topic, bytes(payload), reason) for topic, payload, reason, _ in rows)
    assert got == expected.rejected, (got - expected.rejected, expected.rejected - got)
    assert all(detail for *_, detail in rows), "every rejection says why"
    for table, keys in tables.items():
        assert keys == expected.keys.get(table, set()), table
    good_keys = {k for k in tables["reading"] if k[0] == GOOD_DEVICE}
    assert len(good_keys) == good
    assert availability == (expected.availability,)
