"""Kill -9 of the engine at random moments while venues burn during a QoS 1 flood, restarted
each time: every reading is stored once, every fire becomes one confirmed alert whose station is
called, every notification is delivered, and no notice is ever sent under two ids.

The engine is the real `firewatch run` (a child process), the broker a private Mosquitto, the
SMS / push / webhook receivers one real local HTTP server recording every POST. Reminders and
escalation steps are seconds apart here, so that the outbox keeps growing across the kills. The
moments are drawn from `Random(seed)`; the seed is in every assertion message and
`FW_KILL_SEED=<seed>` replays them.

A finding the killed engine held only in memory is lost with it (alerting/README.md, "Not yet":
ingest had acknowledged the reading, and the broker's redelivery of one not yet acknowledged is
a duplicate that is stored once and not handed on again). A burning room's detector keeps
reporting, as real ones do, until the station has answered, and the restarted engine, whose
rules start from empty state, finds the fire again in its next reading. A fire's lone reading
stored in the last few tens of milliseconds before a kill is never alerted; that gap is known
and not what this test is about.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from random import Random
from typing import Any, TypeVar

import httpx
import paho.mqtt.client as mqtt
import psycopg
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from psycopg.rows import dict_row

from firewatch.alerting import Deliverer
from firewatch.kernel import topics
from firewatch.kernel.clock import SystemClock
from firewatch.kernel.contract import Level
from tests.alerting.receiver import Receiver, receiver, with_receiver
from tests.alerting.support import SETTINGS, Harness
from tests.alerting.support import seed as seed_alerting
from tests.ingest.seed import seed_registry
from tests.reliability.engine_process import EngineProcess
from tests.reliability.flood import Flood
from tests.reliability.test_kill_ingest import stored
from tests.support.mosquitto import PrivateMosquitto

T = TypeVar("T")

FLOOD_DEVICES = {f"KAF-{n:03d}": ("smoke", "V-HOME") for n in range(40)}
TOTAL, RATE = 24_000, 2_400  # ten seconds of ordinary readings
FIRES = 5  # venues that burn, each with its own station
KILLS = 3
FIRE_EVERY_S = 0.5  # a burning room's detector reports this often
RENOTIFY_S, CHIEF_S, OFFICE_S = 4, 6, 10  # reminders and escalation steps, seconds apart
ACK_SECRET = "kill-alerts-acknowledgement-secret-0123456789"
SENT_WITHIN_S = 10  # after being queued, or after the start of the engine that sends it


@dataclass(frozen=True)
class Fire:
    venue_id: str
    device_id: str
    station_phones: tuple[str, str]
    contact: str


FIRE_VENUES = tuple(
    Fire(f"FV-{i}", f"FIRE-{i}", (f"+86139000{i}0001", f"+86139000{i}0002"), f"+86137000{i}0000")
    for i in range(1, FIRES + 1)
)


def seed(url: str) -> None:
    """The flood's venue (seed_registry), and each burning venue with a station of its own."""
    seed_registry(url, FLOOD_DEVICES)
    with psycopg.connect(url) as conn:
        for n, f in enumerate(FIRE_VENUES, 1):
            conn.execute(
                "INSERT INTO station (station_id, name, kind, phones, lat, lon)"
                " VALUES (%s, %s, 'micro', %s, 31.23, 121.47)",
                (f"MS-F{n}", f"Micro station F{n}", list(f.station_phones)),
            )
            conn.execute(
                "INSERT INTO venue (venue_id, name, venue_type, category, community, grid,"
                " address, lat, lon, station_id, contacts) VALUES (%s, %s, 'rental_housing', 1,"
                " 'Xinhua', 'G-03', %s, 31.23, 121.47, %s, %s)",
                (f.venue_id, f"Flat {n}", f"No. {n} Fire Road", f"MS-F{n}", [f.contact]),
            )
            conn.execute(
                "INSERT INTO device (device_id, kind, venue_id, location, heartbeat_s)"
                " VALUES (%s, 'smoke', %s, 'kitchen', 60)",
                (f.device_id, f.venue_id),
            )


def fire_reading(n: int) -> dict[str, Any]:
    """A burning room's detector's n-th reading (from 0): hotter, smokier, more CO each time;
    red by the rules within three (`smoke.confirmed`: alarm with CO; `heat.fixed`: 57 °C)."""
    return {"ts": int(time.time() * 1000), "seq": n, "smoke_obs": min(60, 2 + 4 * n),
            "temp_c": min(95, 40 + 10 * n), "co_ppm": min(900, 20 + 40 * n), "alarm": n > 0}  # fmt: skip


class Burning(threading.Thread):
    """Each fire's detector from its onset (seconds after start): a `fire_reading` every
    FIRE_EVERY_S, QoS 1, until `stop`; every PUBACK counted."""

    def __init__(self, port: int, onsets: dict[str, float]) -> None:
        super().__init__(daemon=True)
        self.port, self.onsets = port, onsets
        self.published = 0
        self.sent: dict[str, int] = {}  # readings published per fire device
        self.error: BaseException | None = None
        self._done = threading.Event()

    def run(self) -> None:
        try:
            self._burn()
        except BaseException as exc:  # reported by the test through .error
            self.error = exc

    def _burn(self) -> None:
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"fire-{secrets.token_hex(4)}")
        client.connect("127.0.0.1", self.port)
        client.loop_start()
        started, seq = time.monotonic(), Counter[str]()
        infos = []
        while not self._done.wait(0.05):
            elapsed = time.monotonic() - started
            for device, onset in self.onsets.items():
                if elapsed < onset + seq[device] * FIRE_EVERY_S:
                    continue
                body = json.dumps(fire_reading(seq[device]))
                infos.append(client.publish(topics.reading("smoke", device), body, qos=1))
                seq[device] += 1
                self.sent[device] = seq[device]
        for info in infos:
            info.wait_for_publish(30)
        self.published = sum(1 for info in infos if info.is_published())
        client.loop_stop()
        client.disconnect()
        assert self.published == len(infos), f"broker acknowledged {self.published}/{len(infos)}"

    def stop(self) -> int:
        """Stop burning; how many readings the broker acknowledged."""
        self._done.set()
        self.join(60)
        assert self.error is None, self.error
        return self.published


def rows(url: str, query: str, *args: object) -> list[dict[str, Any]]:
    with psycopg.connect(url) as conn, conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(query, args).fetchall()


def outbox(url: str) -> dict[str, dict[str, Any]]:
    """Every notification by id, with its key's parts and how many attempts were recorded."""
    found = rows(
        url,
        "SELECT n.*, (SELECT count(*) FROM delivery_log d"
        " WHERE d.notification_id = n.notification_id) AS logged FROM notification n"
        " WHERE n.alert_id IS NOT NULL",  # the engine's own notices (lag) have no alert
    )
    for r in found:
        alert, purpose, step, round_no, channel, recipient = r["idem_key"].split("/", 5)
        r["key"] = (alert, purpose, int(step), int(round_no), channel, recipient)
    return {r["notification_id"]: r for r in found}


def stored_at_least(url: str, n: int) -> bool:
    return stored(url)[0] >= n


def in_flight(url: str) -> int:
    """Notifications claimed for delivery and not yet recorded: right after a kill, the posts
    the killed engine had in flight."""
    row = rows(url, "SELECT count(*) AS n FROM notification WHERE state = 'queued'"
               " AND lease_until > now()")[0]  # fmt: skip
    return int(row["n"])


def missing(url: str, sent: dict[str, int]) -> str:
    """Which readings are not stored: (device, seq) of the flood's and the fires'."""
    per_device = TOTAL // len(FLOOD_DEVICES)
    want = {(d, q) for d in FLOOD_DEVICES for q in range(per_device)}
    want |= {(d, q) for d, n in sent.items() for q in range(n)}
    have = {(r["device_id"], r["seq"]) for r in rows(url, "SELECT device_id, seq FROM reading")}
    rejected = rows(url, "SELECT reason, count(*) AS n FROM rejected_message GROUP BY reason")
    gone = sorted(want - have)
    return f"{len(gone)} missing: {gone[:20]}; rejected: {rejected}"


def wait_for(check: Callable[[], T | None], what: str, why: str, timeout: float,
             poll: float = 0.1) -> T:  # fmt: skip
    """Poll until `check` gives something truthy (and return it); fail naming `what`."""
    deadline = time.monotonic() + timeout
    while not (found := check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}; {why}")
        time.sleep(poll)
    return found


def received(r: Receiver) -> dict[str, list[bytes]]:
    with r.lock:
        return {k: list(v) for k, v in r.bodies.items()}


@pytest.mark.slow
def test_kill_9_while_venues_burn_every_fire_called_once_and_every_notice_delivered(
    fresh_db: str, engine_broker: PrivateMosquitto, tmp_path: Path
) -> None:
    seed_no = int(os.environ.get("FW_KILL_SEED") or secrets.randbits(32))
    rng = Random(seed_no)
    thresholds = sorted(int(rng.uniform(0.1, 0.85) * TOTAL) for _ in range(KILLS))
    jitters = [rng.uniform(0, 0.3) for _ in range(KILLS)]  # after the threshold is seen
    downs = [rng.uniform(0.2, 1.0) for _ in range(KILLS)]  # the engine stays dead this long
    onsets = {f.device_id: rng.uniform(0.3, 0.5 * TOTAL / RATE) for f in FIRE_VENUES}
    kills: list[str] = []  # what each kill interrupted, for the messages

    def why() -> str:
        return f"seed {seed_no} (replay: FW_KILL_SEED={seed_no}); kills: {kills}"

    seed(fresh_db)
    engine = EngineProcess(fresh_db, engine_broker.url, f"fw-ka-{secrets.token_hex(3)}", tmp_path)
    with receiver() as r:
        engine.env |= {
            "FIREWATCH_SMS_URL": r.url("sms"),
            "FIREWATCH_PUSH_URL": r.url("push"),
            "FIREWATCH_WEBHOOK_URL": r.url("hook"),
            # A fixed key: links sent before a kill still work after the restart.
            "FIREWATCH_ALERTING__ACK_SECRET": ACK_SECRET,
            "FIREWATCH_ALERTING__ACK_BASE_URL": f"http://127.0.0.1:{engine.api_port}/api/v1/ack",
            "FIREWATCH_ALERTING__RENOTIFY_S": str(RENOTIFY_S),
            "FIREWATCH_ALERTING__CHIEF_AFTER_S": str(CHIEF_S),
            "FIREWATCH_ALERTING__OFFICE_AFTER_S": str(OFFICE_S),
        }
        starts: list[datetime] = []  # when each engine answered its health check
        try:
            engine.start()
            starts.append(datetime.now(UTC))
            flood = Flood(engine_broker.port, list(FLOOD_DEVICES), TOTAL, rate=RATE)
            fires = Burning(engine_broker.port, onsets)
            started = time.monotonic()
            flood.start()
            fires.start()
            for threshold, jitter, down in zip(thresholds, jitters, downs, strict=True):
                reached = partial(stored_at_least, fresh_db, threshold)
                wait_for(reached, f"{threshold} readings stored", why(), 60, poll=0.02)
                time.sleep(jitter)
                engine.kill()
                kills.append(
                    f"at {time.monotonic() - started:.1f} s: {stored(fresh_db)[0]} readings"
                    f" stored, {len(outbox(fresh_db))} notices queued, {in_flight(fresh_db)}"
                    f" in flight, {r.posts} posts received"
                )
                time.sleep(down)  # readings and fires go on arriving at the broker meanwhile
                engine.start()
                starts.append(datetime.now(UTC))
            flood.check()
            # The fires go on reporting to the last engine for a while, then are answered.
            time.sleep(max(0.0, 2.0 - (datetime.now(UTC) - starts[-1]).total_seconds()))
            burnt = fires.stop()
            expected = TOTAL + burnt

            try:
                done = partial(stored_at_least, fresh_db, expected)
                wait_for(done, f"{expected} readings stored", why(), 30)
            except AssertionError as exc:
                raise AssertionError(f"{exc}; {missing(fresh_db, fires.sent)}") from None

            def alerted() -> dict[str, dict[str, Any]] | None:
                found = rows(fresh_db, "SELECT * FROM alert WHERE kind = 'fire'")
                by_venue = {a["venue_id"]: a for a in found if a["confirmed_at"] is not None}
                return by_venue if set(by_venue) >= {f.venue_id for f in FIRE_VENUES} else None

            alerts = wait_for(alerted, "a confirmed alert at every fire", why(), 20)

            def called() -> dict[str, dict[str, Any]] | None:
                """Each fire's confirmed SMS as its station's first phone received it, once
                each fire has been reminded and escalated too."""
                box, got = outbox(fresh_db), received(r)
                out = {}
                for f in FIRE_VENUES:
                    alert_id = alerts[f.venue_id]["alert_id"]
                    sent = {row["key"][1:]: nid for nid, row in box.items()
                            if row["alert_id"] == alert_id and nid in got}  # fmt: skip
                    nid = sent.get(("confirmed", 0, 0, "sms", f.station_phones[0]))
                    if nid is None or not {"reminder", "escalation"} <= {k[0] for k in sent}:
                        return None
                    out[f.venue_id] = json.loads(got[nid][0])
                return out

            calls = wait_for(called, "every station called, reminded and escalated", why(), 30)
            # The station answers through the link in its SMS: escalation and reminders stop,
            # and the outbox stops growing.
            for f in FIRE_VENUES:
                answer = httpx.get(calls[f.venue_id]["ack_url"], timeout=10)
                assert answer.status_code == 200, f"{f.venue_id}: {answer.text}; {why()}"
                assert answer.json() == {"outcome": "acknowledged"}, why()

            def settled() -> dict[str, dict[str, Any]] | None:
                box = outbox(fresh_db)
                done = all(row["state"] == "delivered" for row in box.values())
                return box if done and set(received(r)) >= set(box) else None

            wait_for(settled, "every notification delivered", why(), 20)
            assert engine.terminate() == 0, f"SIGTERM drains and exits cleanly; {why()}"
            elapsed = time.monotonic() - started
        finally:
            engine.stop()
        got = received(r)
    box = outbox(fresh_db)
    fire_alerts = rows(fresh_db, "SELECT * FROM alert WHERE kind = 'fire' ORDER BY alert_id")
    incidents = rows(fresh_db, "SELECT * FROM hazard_case WHERE kind = 'incident'")
    why_ = f"{why()}; {elapsed:.1f} s"

    # Every reading stored exactly once, the fires' and the flood's.
    n, distinct = stored(fresh_db)
    assert len(kills) == KILLS, why_
    assert n == distinct == expected, f"{n} rows, {distinct} distinct, {expected} sent; {why_}"

    # Exactly one fire alert per burning venue (none from ordinary readings), confirmed and
    # answered by the station, with its incident case.
    assert Counter(a["venue_id"] for a in fire_alerts) == Counter(
        f.venue_id for f in FIRE_VENUES
    ), f"{[(a['alert_id'], a['venue_id'], a['state']) for a in fire_alerts]}; {why_}"
    for a in fire_alerts:
        f = next(f for f in FIRE_VENUES if f.venue_id == a["venue_id"])
        assert (a["level"], a["state"]) == ("red", "acknowledged"), (a, why_)
        assert a["confirmed_at"] is not None and a["acked_by"] == f.station_phones[0], (a, why_)
        assert [c["case_id"] for c in incidents if c["venue_id"] == f.venue_id] == [a["case_id"]], (
            f"{f.venue_id}: one incident case for its alert; {why_}"
        )

    # Each phone of the responsible station received the fire's `confirmed` SMS and push.
    by_key = {row["key"]: nid for nid, row in box.items()}
    for a in fire_alerts:
        f = next(f for f in FIRE_VENUES if f.venue_id == a["venue_id"])
        for phone in f.station_phones:
            for channel in ("sms", "push"):
                nid = by_key.get((a["alert_id"], "confirmed", 0, 0, channel, phone))
                assert nid is not None and nid in got, f"{phone} {channel}: no call; {why_}"
                body = json.loads(got[nid][0])
                assert (body["alert_id"], body["level"]) == (a["alert_id"], "red"), body
                assert body["to"] == [phone], (body, why_)

    # Every notification is delivered, and the receiver saw every id and no other.
    undelivered = [
        (row["key"], row["state"]) for row in box.values() if row["state"] != "delivered"
    ]
    assert not undelivered, f"{undelivered}; {why_}"
    # The engine's own notices (a replay after a kill on a busy machine can lag past
    # engine.lag_alert_s) are in the outbox too, without an alert: delivered, and nothing else.
    engine_notices = {
        row["notification_id"]: row
        for row in rows(fresh_db, "SELECT * FROM notification WHERE alert_id IS NULL")
    }
    states = {nid: row["state"] for nid, row in engine_notices.items()}
    assert set(states.values()) <= {"delivered"}, f"{states}; {why_}"
    assert set(got) == set(box) | set(engine_notices), (
        f"{set(got) ^ (set(box) | set(engine_notices))}; {why_}"
    )
    sent = {**engine_notices, **box}  # every notification by id, for its bytes and attempts
    got_alerts = {nid: bodies for nid, bodies in got.items() if nid in box}
    # Promptly: a kill delays a notice by the restart, not more (a killed deliverer's claims
    # are free once its database session is gone, not when their lease runs out).
    for row in box.values():
        since = max([row["created_at"], *(s for s in starts if s <= row["delivered_at"])])
        late = (row["delivered_at"] - since).total_seconds()
        assert late <= SENT_WITHIN_S, f"{row['key']} sent {late:.1f} s late; {why_}"

    # No notice under two ids. In the outbox, one id per key (alert, purpose, step, round,
    # channel, recipient), matching the row's own columns.
    keys = Counter(row["key"] for row in box.values())
    assert max(keys.values()) == 1, f"{[k for k, c in keys.items() if c > 1]}; {why_}"
    for row in box.values():
        alert, purpose, _, _, channel, recipient = row["key"]
        assert (alert, purpose, channel, recipient) == (
            row["alert_id"], row["purpose"], row["channel"], row["recipient"]
        ), (row["key"], why_)  # fmt: skip
    # At the receiver, one id per notice: (alert, purpose, round, channel, recipient), and the
    # step for escalation notices (each step is its own notice). sms and push to one phone are
    # two notices by design, hence the channel.
    seen: defaultdict[tuple[object, ...], set[str]] = defaultdict(set)
    for nid in got_alerts:
        alert, purpose, step, round_no, channel, recipient = box[nid]["key"]
        notice = (alert, purpose, round_no, channel, recipient)
        seen[(*notice, step if purpose == "escalation" else None)].add(nid)
    twice = {k: v for k, v in seen.items() if len(v) > 1}
    assert not twice, f"one notice under several ids: {twice}; {why_}"

    # A repeated POST of the same id is allowed: when the engine dies after the receiver
    # answered and before the delivery was recorded, nothing can tell that it arrived, so the
    # restarted engine sends the same notification, same id and same bytes, again
    # (at-least-once; the receiver treats a repeated id as one notification, CONTRACT.md
    # section 3). It is counted, and is never more often than the outbox claimed it.
    repeats = {nid: len(bodies) - 1 for nid, bodies in got.items() if len(bodies) > 1}
    for nid, bodies in got.items():
        assert all(b.decode() == sent[nid]["body"] for b in bodies), f"{nid}: other bytes; {why_}"
        assert len(bodies) <= sent[nid]["attempts"], (nid, len(bodies), why_)
    unrecorded = sum(row["attempts"] - row["logged"] for row in box.values())

    # Reminders and steps survive the restarts without being sent early or twice: each round
    # once, numbered on from the last, every reminder RENOTIFY_S after the alert's previous
    # notice, each step at its time after confirmation, nothing after the acknowledgement.
    for a in fire_alerts:
        notices = sorted((row for row in box.values() if row["alert_id"] == a["alert_id"]),
                         key=lambda row: row["created_at"])  # fmt: skip
        assert notices[-1]["created_at"] <= a["acked_at"], (a["alert_id"], why_)
        times = sorted({row["created_at"] for row in notices})
        rounds = sorted({row["key"][3] for row in notices if row["purpose"] == "reminder"})
        assert rounds == list(range(1, len(rounds) + 1)), (a["alert_id"], rounds, why_)
        for row in notices:
            at, purpose = row["created_at"], row["purpose"]
            if purpose == "reminder":
                before = max(t for t in times if t < at)
                assert at - before >= timedelta(seconds=RENOTIFY_S), (row["key"], at, why_)
            elif purpose == "escalation":
                after = {1: CHIEF_S, 2: OFFICE_S}[row["key"][2]]
                assert at - a["confirmed_at"] >= timedelta(seconds=after), (row["key"], why_)

    purposes = dict(Counter(row["purpose"] for row in box.values()))
    print(
        f"seed {seed_no}: {elapsed:.1f} s, {len(box)} notifications {purposes},"
        f" {sum(repeats.values())} repeated POSTs, {unrecorded} unrecorded attempts;"
        f" kills: {kills}"
    )


# A deliverer's first half, as a process of its own: it claims every due notification for a
# minute's lease, says how many, and then (as if its posts hung) does nothing until killed.
CLAIMER = """
import sys, time
from datetime import UTC, datetime
import psycopg
from firewatch.alerting import outbox
conn = psycopg.connect(sys.argv[1], autocommit=True)
claimed = outbox.claim(conn, ["sms", "push", "webhook"], datetime.now(UTC), 60.0, 100)
print(len(claimed), flush=True)
time.sleep(120)
"""


def test_a_killed_deliverers_claims_are_sent_at_once_not_when_their_lease_runs_out(
    fresh_db: str,
) -> None:
    seed_alerting(fresh_db)
    with receiver() as r:
        settings = with_receiver(SETTINGS, r)
        h = Harness(fresh_db, settings)
        try:
            h.fire("SMK-1", Level.RED, sensed=("smoke", "heat"))  # the station is called
            ids = {n["notification_id"] for n in h.notices()}
        finally:
            h.close()
        claimer = subprocess.Popen(
            [sys.executable, "-c", CLAIMER, fresh_db], stdout=subprocess.PIPE, text=True
        )
        try:
            assert claimer.stdout is not None
            assert int(claimer.stdout.readline()) == len(ids) > 0
            with Deliverer(
                lambda: psycopg.connect(fresh_db), SystemClock(), settings.delivery
            ) as d:
                assert d.deliver_due() == 0, "a live deliverer's claims are nobody else's"
                killed = time.monotonic()
                claimer.send_signal(signal.SIGKILL)
                claimer.wait(10)
                sent = 0
                while sent < len(ids) and time.monotonic() < killed + 10:
                    sent += d.deliver_due()
                    time.sleep(0.05)
                after = time.monotonic() - killed
        finally:
            claimer.kill()
            claimer.wait(10)
    assert r.delivered() == ids, f"{len(r.delivered())} of {len(ids)} sent {after:.1f} s after"
    assert all(len(bodies) == 1 for bodies in r.bodies.values())
    assert after < 5, f"the fire call waited {after:.1f} s after the kill (the lease is 60 s)"
