"""The durable outbox, owned by `alerting.deliver`: notifications are written in the same
transaction as the decision that called for them, with an idempotency key, and leave only by
delivery. Each row's body is the exact JSON posted, so every retry carries the same `id`.

The key names the alert, purpose, step, round, channel and recipient: queuing the same notice
twice (a replay, a retried transaction) is a no-op.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final
from zoneinfo import ZoneInfo

import psycopg

from firewatch.alerting.ack import Claims, ack_url, make_token
from firewatch.alerting.channels import SHAPES
from firewatch.alerting.records import AlertView
from firewatch.alerting.route import Route
from firewatch.alerting.settings import AckSettings
from firewatch.alerting.texts import Wording, render
from firewatch.kernel.registry import Venue


@dataclass(frozen=True, slots=True)
class Outgoing:
    notification_id: str
    idem_key: str
    alert_id: str | None  # None: a notice about the engine itself (no alert)
    channel: str
    recipient: str
    purpose: str
    reason: str
    level: str
    body: str


@dataclass(frozen=True, slots=True)
class Claimed:
    notification_id: str
    channel: str
    recipient: str
    level: str
    body: str
    attempt: int  # this attempt's number, from 1


def notification_id(idem_key: str) -> str:
    """The receiver's `id`: derived from the key, so the same notice always has the same id.

    >>> notification_id("AL-1/confirmed/0/0/sms/+8613800000001")
    'N-3510f4b0a8866e3663f4bee1'
    """
    return "N-" + hashlib.sha256(idem_key.encode()).hexdigest()[:24]


def build(
    alert: AlertView, route: Route, wording: Wording, *, venue: Venue, ack: AckSettings,
    zone: ZoneInfo, now: datetime, round_no: int,
) -> list[Outgoing]:  # fmt: skip
    """The notifications of one route, bodies rendered, shaped per channel and frozen."""
    title, text = render(wording, venue, zone)
    out = []
    for r in route.recipients:
        key = f"{alert.alert_id}/{route.purpose}/{route.step}/{round_no}/{r.channel}/{r.address}"
        nid = notification_id(key)
        link = None
        if ack.secret:
            claims = Claims(alert.alert_id, r.address, nid, now + timedelta(seconds=ack.ttl_s))
            link = ack_url(ack.base_url, make_token(ack.secret, claims))
        body = {"id": nid, "channel": r.channel, "to": list(r.to), "alert_id": alert.alert_id,
                "case_id": alert.case_id, "level": str(wording.level), "title": title, "text": text,
                "ack_url": link}  # fmt: skip
        frozen = json.dumps(SHAPES[r.channel](body), ensure_ascii=False, separators=(",", ":"))
        out.append(Outgoing(nid, key, alert.alert_id, r.channel, r.address, route.purpose,
                            route.reason, str(wording.level), frozen))  # fmt: skip
    return out


def enqueue(conn: psycopg.Connection, items: Sequence[Outgoing], now: datetime) -> int:
    """Queue notifications (inside the caller's transaction); already-queued keys are skipped."""
    if not items:
        return 0
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO notification (notification_id, idem_key, alert_id, channel, recipient,"
            " purpose, reason, level, body, created_at, due_at)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
            [(o.notification_id, o.idem_key, o.alert_id, o.channel, o.recipient, o.purpose,
              o.reason, o.level, o.body, now, now) for o in items],
        )  # fmt: skip
    return len(items)


URGENCY: Final = ("red", "orange", "yellow", "blue")
"""Levels, most urgent first: the order in which due notifications leave."""


def claim(conn: psycopg.Connection, channels: Sequence[str], now: datetime, lease_s: float,
          limit: int) -> list[Claimed]:  # fmt: skip
    """Take due notifications for a lease, most urgent level first, then longest due, then
    oldest: a backlog never makes a fire call wait behind maintenance notices. The lease names
    the taker's database session: a crashed taker's session is gone, and so is its lease (a
    session that merely broke counts as gone too: its posts may go twice, under the same id)."""
    rows = conn.execute(
        "UPDATE notification n SET lease_until = %(lease)s, lease_pid = pg_backend_pid(),"
        "   attempts = n.attempts + 1"
        " WHERE notification_id IN (SELECT notification_id FROM notification"
        "   WHERE state = 'queued' AND due_at <= %(now)s AND channel = ANY(%(channels)s)"
        "     AND (lease_until IS NULL OR lease_until <= %(now)s OR (lease_pid IS NOT NULL"
        "       AND NOT EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.pid = lease_pid)))"
        "   ORDER BY array_position(%(urgency)s::text[], level), due_at, created_at,"
        "     notification_id LIMIT %(limit)s FOR UPDATE SKIP LOCKED)"
        " RETURNING notification_id, channel, recipient, level, body, attempts, due_at,"
        "   created_at",
        {"lease": now + timedelta(seconds=lease_s), "now": now, "channels": list(channels),
         "limit": limit, "urgency": list(URGENCY)},
    ).fetchall()  # fmt: skip
    # RETURNING has no order of its own: sort as picked, so that posts start most urgent first.
    rows.sort(key=lambda r: (_rank(r[3]), r[6], r[7], r[0]))
    return [Claimed(*row[:6]) for row in rows]


def _rank(level: str) -> int:
    return URGENCY.index(level) if level in URGENCY else len(URGENCY)


def pull_forward(conn: psycopg.Connection, channel: str, now: datetime) -> int:
    """A channel answers again: its notifications waiting out a backoff are due at once, each
    as due as when it was queued, so the backlog leaves in urgency order, oldest first, rather
    than one by one as each row's own timer runs out. Rows held by the rate limit or told to
    wait by the receiver (429, Retry-After) keep their time; leased rows are in flight."""
    return conn.execute(
        "UPDATE notification SET due_at = created_at"
        " WHERE state = 'queued' AND channel = %s AND due_at > created_at"
        "   AND last_failure IS NOT NULL"
        "   AND last_failure NOT IN ('held_rate_limit', 'rate_limited')"
        "   AND (lease_until IS NULL OR lease_until <= %s)",
        (channel, now),
    ).rowcount


def recent_counts(conn: psycopg.Connection, claimed: Sequence[Claimed],
                  since: datetime) -> dict[tuple[str, str], int]:  # fmt: skip
    """Notifications delivered per (channel, recipient) since `since`, for the rate limit."""
    if not claimed:
        return {}
    rows = conn.execute(
        "SELECT channel, recipient, count(*) FROM notification WHERE state = 'delivered'"
        " AND delivered_at > %s AND recipient = ANY(%s) GROUP BY channel, recipient",
        (since, list({c.recipient for c in claimed})),
    ).fetchall()
    return {(r[0], r[1]): int(r[2]) for r in rows}


def record(conn: psycopg.Connection, c: Claimed, now: datetime, *, outcome: str,
           status: int | None, detail: str, elapsed_ms: int,
           retry_at: datetime | None) -> None:  # fmt: skip
    """One attempt's outcome: delivered (retry_at None), or due again at `retry_at`."""
    with conn.transaction():
        conn.execute(
            "INSERT INTO delivery_log (notification_id, attempt, at, outcome, status, detail,"
            " elapsed_ms) VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
            (c.notification_id, c.attempt, now, outcome, status, detail, elapsed_ms),
        )
        if retry_at is None:
            conn.execute(
                "UPDATE notification SET state = 'delivered', delivered_at = %s,"
                " lease_until = NULL, last_failure = NULL WHERE notification_id = %s",
                (now, c.notification_id),
            )
        else:
            conn.execute(
                "UPDATE notification SET due_at = %s, lease_until = NULL, last_failure = %s"
                " WHERE notification_id = %s AND state = 'queued'",
                (retry_at, outcome, c.notification_id),
            )


def release(conn: psycopg.Connection, items: Sequence[Claimed]) -> None:
    """Give claimed notifications back unsent, due as they were: not an attempt."""
    if items:
        conn.execute(
            "UPDATE notification SET lease_until = NULL, attempts = attempts - 1"
            " WHERE notification_id = ANY(%s) AND state = 'queued'",
            ([c.notification_id for c in items],),
        )


def hold(conn: psycopg.Connection, c: Claimed, until: datetime) -> None:
    """Give a claimed notification back unsent (rate limit): not an attempt."""
    conn.execute(
        "UPDATE notification SET due_at = %s, lease_until = NULL, attempts = attempts - 1,"
        " last_failure = 'held_rate_limit' WHERE notification_id = %s",
        (until, c.notification_id),
    )
