"""Delivery through the durable outbox to a real HTTP receiver that fails for a while.

HTTP 500s, 429s and time-outs, then recovery: every notification arrives, the receiver sees
each `id` as one notification (the same bytes on every retry), and a deliverer killed in the
middle (a real process, SIGKILL) loses nothing: the next one finishes the job.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import psycopg
import pytest

from firewatch.alerting import Deliverer, DeliverySettings
from firewatch.kernel.clock import SystemClock
from firewatch.kernel.contract import Level
from tests.alerting.receiver import Receiver, receiver, wait_for, with_receiver
from tests.alerting.support import SETTINGS, Harness, event, seed

ROOT = Path(__file__).resolve().parents[2]
FAST = DeliverySettings(timeout_s=0.3, backoff_base_s=0.05, backoff_max_s=0.4, lease_s=1.0,
                        poll_s=0.05, parallel=4, batch=8)  # fmt: skip


def _queue_notifications(url: str, r: Receiver) -> set[str]:
    """Real alerts, queued by the stage: a red fire, a pre-alarm, a maintenance job."""
    settings = with_receiver(SETTINGS, r)
    h = Harness(url, settings)
    try:
        h.fire("SMK-1", Level.RED, sensed=("smoke", "heat"))
        h.fire("SMK-3")
        h.events(event("SMK-5", h.now, "tamper"))
        h.advance(100)  # a reminder and the chief for the fire
        ids = {n["notification_id"] for n in h.notices()}
    finally:
        h.close()
    assert len(ids) >= 20
    return ids


def _outbox(url: str) -> dict[str, tuple[str, str]]:
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT notification_id, state, body FROM notification").fetchall()
    return {r[0]: (r[1], r[2]) for r in rows}


def _same_bytes_every_time(r: Receiver, outbox: dict[str, tuple[str, str]]) -> None:
    for nid, bodies in r.bodies.items():
        assert {bytes(b) for b in bodies} == {outbox[nid][1].encode()}, nid
        assert json.loads(bodies[0])["id"] == nid


@pytest.fixture
def db(fresh_db: str) -> str:
    seed(fresh_db)
    return fresh_db


def test_failures_then_recovery_every_notification_arrives_and_once(db: str) -> None:
    def script(n: int) -> int | float:
        if n <= 12:
            return 500
        if n <= 18:
            return 0.6  # longer than the 0.3 s time-out
        if n <= 21:
            return 429
        return 200

    with receiver(script) as r:
        ids = _queue_notifications(db, r)
        settings = replace(FAST, sms_url=r.url("sms"), push_url=r.url("push"),
                           webhook_url=r.url("hook"))  # fmt: skip
        stop = threading.Event()
        with Deliverer(lambda: psycopg.connect(db), SystemClock(), settings) as deliverer:
            thread = threading.Thread(target=deliverer.run, args=(stop,))
            thread.start()
            try:
                wait_for(lambda: r.delivered() >= ids, 30, "every notification delivered")
                wait_for(lambda: all(s == "delivered" for s, _ in _outbox(db).values()), 10,
                         "the outbox drained")  # fmt: skip
            finally:
                stop.set()
                deliverer.wake()
                thread.join(10)
        outbox = _outbox(db)
    assert r.distinct() == ids == set(outbox)  # nothing lost, nothing made up
    assert r.posts > len(ids)  # there were retries ...
    _same_bytes_every_time(r, outbox)  # ... each with the same id and the same bytes
    with psycopg.connect(db) as conn:
        outcomes: dict[str, int] = dict(conn.execute(
            "SELECT outcome, count(*) FROM delivery_log GROUP BY outcome").fetchall())  # fmt: skip
        attempts = conn.execute(
            "SELECT min(attempts), max(attempts) FROM notification").fetchone()  # fmt: skip
    assert outcomes["server_error"] == 12 and outcomes["rate_limited"] == 3
    assert outcomes["timeout"] >= 6  # a stalled post may also be one a dead lease retried
    assert outcomes["delivered"] == len(ids)
    assert attempts is not None and attempts[0] >= 1 and attempts[1] >= 2


def _start(db: str, r: Receiver, log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.alerting.deliver_process", db, r.url("").rstrip("/")],
        cwd=ROOT, stdout=log.open("ab"), stderr=subprocess.STDOUT,
    )  # fmt: skip


def _kill(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGKILL)
        process.wait(10)


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for p in started:
        _kill(p)


def test_nothing_is_lost_when_the_deliverer_is_killed_in_the_middle(
    db: str, tmp_path: Path, processes: list[subprocess.Popen[bytes]]
) -> None:
    healthy = threading.Event()

    def script(n: int) -> int | float:
        if healthy.is_set() or n <= 6:
            return 200
        return 500 if n <= 14 else 5.0  # then every post hangs: the process dies mid-flight

    with receiver(script) as r:
        ids = _queue_notifications(db, r)
        first = _start(db, r, tmp_path / "deliverer.log")
        processes.append(first)
        wait_for(lambda: r.posts >= 18, 30, "the first deliverer stuck in posts")
        _kill(first)  # SIGKILL with posts in flight and leases held
        done_before = {n for n, (s, _) in _outbox(db).items() if s == "delivered"}
        assert 0 < len(done_before) < len(ids)
        healthy.set()  # the receiver recovers; a new engine starts
        second = _start(db, r, tmp_path / "deliverer.log")
        processes.append(second)
        wait_for(lambda: all(s == "delivered" for s, _ in _outbox(db).values()), 30,
                 f"the outbox drained by the second deliverer ({(tmp_path / 'deliverer.log')})")  # fmt: skip
        _kill(second)
        outbox = _outbox(db)
    assert r.distinct() == ids == set(outbox)
    assert r.delivered() == ids
    _same_bytes_every_time(r, outbox)
    with psycopg.connect(db) as conn:
        lost_attempts = conn.execute(
            "SELECT count(*) FROM notification n WHERE n.attempts >"
            " (SELECT count(*) FROM delivery_log l WHERE l.notification_id = n.notification_id)"
        ).fetchone()
    # attempts that died with the first process, then ran out their lease and were sent again
    assert lost_attempts is not None and lost_attempts[0] > 0
