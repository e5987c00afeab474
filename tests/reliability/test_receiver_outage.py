"""The SMS receiver is down for two minutes of engine time while alerts of every level fire.

The receiver is a real HTTP server on a loopback port; while it is down nothing listens there
(connection refused). Alerts are raised by the real alerting stage and delivered by the real
deliverer, both on one manual clock, so two minutes of retries and backoff pass in a few
seconds. When the receiver comes back, the first successful post shows the channel answers
again; the whole waiting backlog then leaves at once, without waiting out each notification's
own backoff, in order of urgency (red, orange, yellow, blue) and, within a level, oldest first.
Every notification arrives, each `id` once. The other channels are not held up meanwhile.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime, timedelta
from http.server import ThreadingHTTPServer

import psycopg
import pytest

from firewatch.alerting import Deliverer
from firewatch.alerting.outbox import URGENCY
from firewatch.kernel.contract import Level
from tests.alerting.receiver import Receiver, _handler, receiver
from tests.alerting.support import SETTINGS, Harness, event, seed
from tests.support.ports import free_port

OUTAGE_S = 120


@contextmanager
def serving(r: Receiver) -> Iterator[None]:
    """`r` answering on its own port (kept across restarts, as a real receiver's address is)."""
    server = ThreadingHTTPServer(("127.0.0.1", r.port), _handler(r))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()


def drain(d: Deliverer) -> int:
    """Delivery rounds at this moment of engine time until nothing more is due."""
    total = 0
    while claimed := d.deliver_due():
        total += claimed
    return total


def sms_rows(conn: psycopg.Connection) -> list[tuple[str, str, datetime, datetime, str]]:
    """(id, level, created_at, due_at, state) of every SMS in the outbox."""
    return conn.execute(
        "SELECT notification_id, level, created_at, due_at, state FROM notification"
        " WHERE channel = 'sms'"
    ).fetchall()


@pytest.mark.slow
def test_after_a_receiver_outage_everything_arrives_once_in_urgency_order(fresh_db: str) -> None:
    seed(fresh_db)
    sms = Receiver(port=free_port())  # nothing listens there yet: connection refused
    with receiver() as others:  # push and the city platform's webhook stay up
        settings = replace(SETTINGS, delivery=replace(
            SETTINGS.delivery, sms_url=sms.url("sms"), push_url=others.url("push"),
            webhook_url=others.url("hook"),
        ))  # fmt: skip
        # Production backoff (0.5 s doubling to 30 s, jitter); one post at a time, so that the
        # order in which the receiver sees them is the order in which they were sent.
        delivery = replace(settings.delivery, parallel=1)
        h = Harness(fresh_db, settings)
        try:
            with Deliverer(lambda: psycopg.connect(fresh_db), h.clock, delivery) as d:
                down_at = h.now
                script = {  # alerts of every level while the SMS receiver is down
                    0: lambda: h.events(event("SMK-5", h.now, "tamper")),  # maintenance
                    10: lambda: h.fire("SMK-3"),  # a kitchen pre-alarm
                    25: lambda: h.fire("SMK-1", Level.RED, sensed=("smoke", "heat")),
                    40: lambda: h.fire("SMK-6", Level.YELLOW),
                }
                for second in range(OUTAGE_S):
                    if second in script:
                        script[second]()
                    drain(d)
                    h.advance(1)
                back_at = h.now
                waiting = sms_rows(h.db)
                others_done = others.delivered()
                with serving(sms):
                    # The deliverer looks every poll_s; the first notice whose retry falls due
                    # finds the receiver back. It goes alone, as a probe.
                    while not (posted := d.deliver_due()):
                        assert h.now < back_at + timedelta(seconds=delivery.backoff_max_s * 1.5)
                        h.clock.advance(delivery.poll_s)
                    assert posted == 1, "one SMS goes first, alone: is the receiver back?"
                    probe_at, probe = h.now, set(sms.delivered())
                    drain(d)  # the same moment of engine time: no backoff is waited out
                    arrived = sorted(sms.times, key=sms.times.__getitem__)
                done = h.db.execute(
                    "SELECT state, delivered_at FROM notification WHERE channel = 'sms'"
                ).fetchall()
                refused = h.db.execute(
                    "SELECT min(at), max(at), count(DISTINCT notification_id) FROM delivery_log"
                    " JOIN notification n USING (notification_id)"
                    " WHERE n.channel = 'sms' AND outcome = 'connection'"
                ).fetchone()
                pushed = {r[0] for r in h.db.execute(
                    "SELECT notification_id FROM notification WHERE channel <> 'sms'"
                    " AND created_at < %s", (back_at,)).fetchall()}  # fmt: skip
        finally:
            h.close()

    # The receiver really was down for the two minutes, and every SMS felt it.
    assert refused is not None and refused[0] == down_at
    assert refused[1] >= down_at + timedelta(seconds=OUTAGE_S - 10)
    assert refused[2] == len(waiting)
    assert all(state == "queued" for *_, state in waiting)
    assert {level for _, level, *_ in waiting} == set(URGENCY), "every level is waiting"
    # Without the pull-forward most of them would still be backing off at this moment.
    assert sum(1 for *_, due, _ in waiting if due > probe_at) > len(waiting) // 2
    # The other channels were not held up by the SMS outage.
    assert pushed and pushed <= others_done

    # Everything arrives, each id once, at the moment the receiver answers again.
    ids = {nid for nid, *_ in waiting}
    assert set(arrived) == ids == sms.delivered()
    assert all(len(bodies) == 1 for bodies in sms.bodies.values())
    assert done == [("delivered", probe_at)] * len(ids)
    # The probe was the most urgent notice due then; all the others follow in urgency order,
    # oldest first (the order the outbox picks them: level, then time queued, then id).
    assert len(probe) == 1 and arrived[0] in probe
    by_id = {nid: (level, created, due) for nid, level, created, due, _ in waiting}
    assert by_id[arrived[0]][2] <= probe_at, "the probe was the first to fall due"
    rest = arrived[1:]
    urgency = {nid: (URGENCY.index(by_id[nid][0]), by_id[nid][1], nid) for nid in rest}
    assert rest == sorted(rest, key=urgency.__getitem__), [by_id[n][:2] for n in rest]
