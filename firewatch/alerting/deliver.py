"""Deliver: the one place of retries, backoff with jitter, per-recipient rate limits, leases.

The deliverer claims due notifications from the outbox for a lease, posts them in parallel
through their channels, and records every attempt in the delivery log. A failure is retried
with exponential backoff and jitter (a receiver's Retry-After is honoured); failures a person
must fix (client error, auth) are retried too — the contract says until a 2xx — but at the
slowest pace. If the engine dies mid-post its database session ends with it, which frees its
leases: the next deliverer (the restarted engine, another partition) sends the same
notification, with the same `id`, again at once rather than after the lease has run out.
Receivers treat a repeated `id` as one notification.

Due notifications leave most urgent first (red, orange, yellow, blue), then longest due, then
oldest. A channel whose last post failed gets one notice per round, its most urgent, as a
probe; the others wait unsent rather than each failing again. When the probe gets through
after an outage at least as long as the longest backoff, the channel's waiting backlog is due
at once, so it leaves in urgency order instead of as each notification's own backoff ends.

Per recipient and channel, at most `rate_limit` notices per window leave (an SMS storm from a
flapping detector waits); red notices are never held back.

>>> s = DeliverySettings(backoff_base_s=0.5, backoff_max_s=30.0, jitter=0.2)
>>> [round(backoff_s(n, Failure.SERVER_ERROR, None, s, 0.5), 2) for n in (1, 2, 3, 9)]
[0.5, 1.0, 2.0, 30.0]
>>> backoff_s(1, Failure.CLIENT_ERROR, None, s, 0.5), backoff_s(1, Failure.RATE_LIMITED, 7, s, 0.5)
(30.0, 7.0)
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor, as_completed
from datetime import datetime, timedelta
from random import Random
from types import TracebackType

import httpx
import psycopg

from firewatch.alerting import metrics, outbox
from firewatch.alerting.channels import CHANNELS, RETRYABLE, Channel, Failure, Sent
from firewatch.alerting.outbox import Claimed
from firewatch.alerting.settings import DeliverySettings
from firewatch.kernel.clock import Clock

log = logging.getLogger("firewatch.alerting")

Connect = Callable[[], psycopg.Connection]


def backoff_s(attempt: int, failure: Failure, retry_after_s: float | None,
              s: DeliverySettings, u: float) -> float:  # fmt: skip
    """Seconds before attempt `attempt + 1`; `u` in [0, 1) draws the jitter."""
    if failure not in RETRYABLE:
        return s.backoff_max_s
    wait: float = min(s.backoff_max_s, s.backoff_base_s * 2.0 ** (attempt - 1))
    if retry_after_s is not None:
        return float(max(wait, min(retry_after_s, s.backoff_max_s)))
    return wait * (1 + s.jitter * (2 * u - 1))


def held(sent_in_window: int, level: str, s: DeliverySettings) -> bool:
    """Whether the rate limit holds a notice back (red never is).

    >>> s = DeliverySettings(rate_limit=3)
    >>> held(2, "yellow", s), held(3, "yellow", s), held(30, "red", s)
    (False, True, False)
    """
    return level != "red" and sent_in_window >= s.rate_limit


def channels_for(s: DeliverySettings, client: httpx.Client) -> dict[str, Channel]:
    """One adapter per configured receiver."""
    out: dict[str, Channel] = {}
    for name in s.channels:
        url = s.url(name)
        assert url is not None
        out[name] = CHANNELS[name](url, client, s.timeout_s)
    return out


class Deliverer:
    """`with Deliverer(...) as d: d.run(stop)`; `wake()` after queuing for prompt delivery."""

    def __init__(self, connect: Connect, clock: Clock, settings: DeliverySettings, *,
                 channels: Mapping[str, Channel] | None = None,
                 rng: Random | None = None) -> None:  # fmt: skip
        self._connect = connect
        self._clock = clock
        self._s = settings
        self._client: httpx.Client | None = None
        if channels is None:
            limits = httpx.Limits(max_connections=settings.parallel * 2)
            self._client = httpx.Client(limits=limits, follow_redirects=False)
            channels = channels_for(settings, self._client)
        self._channels = dict(channels)
        self._rng = rng or Random()  # noqa: S311 - jitter, not secrets
        self._pool = ThreadPoolExecutor(settings.parallel, thread_name_prefix="alert-post")
        self._conn: psycopg.Connection | None = None
        self._wake = threading.Event()
        self._down: dict[str, datetime] = {}  # channel → its first failure since its last success
        self.attempts = 0

    def __enter__(self) -> Deliverer:
        return self

    def __exit__(self, _t: type[BaseException] | None, _e: BaseException | None,
                 _tb: TracebackType | None) -> None:  # fmt: skip
        self.close()

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        if self._client is not None:
            self._client.close()
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def wake(self) -> None:
        self._wake.set()

    def _db(self) -> psycopg.Connection:
        if self._conn is None or self._conn.closed:
            self._conn = self._connect()
            self._conn.autocommit = True
        return self._conn

    def _send(self, c: Claimed) -> tuple[Sent, int]:
        started = self._clock.monotonic()
        sent = self._channels[c.channel].send(c.body.encode(), c.notification_id)
        return sent, int((self._clock.monotonic() - started) * 1000)

    def deliver_due(self) -> int:
        """One round: claim what is due, post it, record it. How many were posted or held."""
        conn, s = self._db(), self._s
        now = self._clock.now()
        claimed = outbox.claim(conn, list(self._channels), now, s.lease_s, s.batch)
        if not claimed:
            return 0
        counts = outbox.recent_counts(conn, claimed, now - timedelta(seconds=s.rate_window_s))
        sending = []
        for c in claimed:
            key = (c.channel, c.recipient)
            if c.channel != "webhook" and held(counts.get(key, 0), c.level, s):
                outbox.hold(conn, c, now + timedelta(seconds=s.rate_window_s / s.rate_limit))
                metrics.DELIVERIES.labels(c.channel, "held_rate_limit").inc()
                continue
            counts[key] = counts.get(key, 0) + 1
            sending.append(c)
        # A channel that failed last time gets one notice, its most urgent, as a probe; the
        # others go back unsent and still due, instead of each failing and backing off.
        first: dict[str, Claimed] = {}
        for c in sending:
            first.setdefault(c.channel, c)
        parked = [c for c in sending if c.channel in self._down and c is not first[c.channel]]
        outbox.release(conn, parked)
        futures = {self._pool.submit(self._send, c): c for c in sending if c not in parked}
        for future in as_completed(futures):
            c = futures[future]
            sent, elapsed_ms = future.result()
            self._record(conn, c, sent, elapsed_ms)
        return len(claimed) - len(parked)

    def _record(self, conn: psycopg.Connection, c: Claimed, sent: Sent, elapsed_ms: int) -> None:
        now = self._clock.now()
        self.attempts += 1
        if sent.failure is None:
            outbox.record(conn, c, now, outcome="delivered", status=sent.status,
                          detail=sent.detail, elapsed_ms=elapsed_ms, retry_at=None)  # fmt: skip
            metrics.DELIVERIES.labels(c.channel, "delivered").inc()
            down_since = self._down.pop(c.channel, None)
            if down_since is not None:
                self._recovered(conn, c.channel, now, now - down_since)
            return
        self._down.setdefault(c.channel, now)
        wait = backoff_s(c.attempt, sent.failure, sent.retry_after_s, self._s, self._rng.random())
        retry_at = now + timedelta(seconds=wait)
        outbox.record(conn, c, now, outcome=sent.failure, status=sent.status,
                      detail=sent.detail, elapsed_ms=elapsed_ms, retry_at=retry_at)  # fmt: skip
        metrics.DELIVERIES.labels(c.channel, str(sent.failure)).inc()
        log.warning("notification %s (%s, attempt %d) failed, %s; again in %.1f s",
                    c.notification_id, c.channel, c.attempt, sent.detail, wait)  # fmt: skip

    def _recovered(self, conn: psycopg.Connection, channel: str, now: datetime,
                   down: timedelta) -> None:  # fmt: skip
        """The channel answers again. After an outage long enough for retries to back off to
        their slowest pace, its waiting backlog is due at once (in urgency order, oldest first)
        instead of trickling out as each notification's backoff ends. A receiver that only
        flickers keeps the backoff: pulling its failures forward would hammer it."""
        if down.total_seconds() < self._s.backoff_max_s:
            return
        pulled = outbox.pull_forward(conn, channel, now)
        log.info("%s receiver answers again after %.0f s: %d waiting notifications due now",
                 channel, down.total_seconds(), pulled)  # fmt: skip
        self._wake.set()

    def run(self, stop: threading.Event) -> None:
        """Deliver until `stop`; a lost database is waited for, never a reason to give up."""
        while not stop.is_set():
            self._wake.clear()
            try:
                claimed = self.deliver_due()
            except psycopg.OperationalError as exc:
                log.warning("outbox unreachable, will retry: %s", exc)
                if self._conn is not None:
                    self._conn.close()
                self._conn = None
                stop.wait(1.0)
                continue
            except Exception:  # delivery must outlive any one fault: log it, go on
                log.exception("delivery round failed, will retry")
                stop.wait(1.0)
                continue
            if claimed < self._s.batch:
                self._wake.wait(self._s.poll_s)
