"""The writing half of ingest: store decoded batches, acknowledge them, hand them on.

It runs in its own thread with its own connection, so that while one batch waits on
PostgreSQL the next is being decoded. Batches are written, acknowledged and handed on in the
order they were received. When the database is down it retries the same batch with backoff
and takes nothing new; the hand-off queue fills and decoding stops in turn.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import psycopg

from firewatch.ingest import metrics
from firewatch.ingest.decode import DecodeLimits
from firewatch.ingest.liveness import WentOffline, sweep
from firewatch.ingest.partition import EVERYTHING, Partition
from firewatch.ingest.positions import record_batch
from firewatch.ingest.reasons import RejectReason
from firewatch.ingest.records import Availability, Decoded, Rejected
from firewatch.ingest.store import BatchWriter, WriteResult
from firewatch.ingest.stream import Batch, Consumer
from firewatch.ingest.subscribe import Inbound, Subscriber
from firewatch.kernel.clock import Clock

log = logging.getLogger("firewatch.ingest")

Connect = Callable[[], psycopg.Connection]
Outcome = Decoded | Rejected

# Our own traffic comes back on the wildcard subscription: engine announcements, and the
# commands the alerting stage sends to charging ports from its own connection. With the
# broker's ACL (`firewatch broker config`) only the engine may publish either, so they are
# acknowledged and dropped, not stored as device data nor as rejections.
_OURS = frozenset({RejectReason.ENGINE_TOPIC, RejectReason.UNEXPECTED_COMMAND})


@dataclass(frozen=True, slots=True)
class IngestSettings:
    batch_size: int
    batch_max_age_s: float
    limits: DecodeLimits
    registry_refresh_s: float = 5.0
    liveness_sweep_s: float = 10.0
    liveness_flush_s: float = 2.0
    retry_initial_s: float = 0.2
    retry_max_s: float = 5.0


class Committer:
    def __init__(
        self,
        subscriber: Subscriber,
        connect: Connect,
        clock: Clock,
        settings: IngestSettings,
        consumers: Sequence[Consumer],
        *,
        partition: Partition = EVERYTHING,
    ) -> None:
        self._partition = partition  # whose devices the liveness sweep judges
        self._subscriber = subscriber
        self._connect = connect
        self._clock = clock
        self._settings = settings
        self._consumers = list(consumers)
        self._conn: psycopg.Connection | None = None
        self._writer: BatchWriter | None = None
        self._next_sweep = 0.0
        self._next_liveness = 0.0
        self.committed_batches = 0

    def commit(self, inbound: list[Inbound], outcomes: list[Outcome | None]) -> None:
        """Store a batch (None: another partition's message, acknowledged only), acknowledge
        every message of it, hand on what is new."""
        started = self._clock.monotonic()
        result = self._write_with_retry(inbound, outcomes)
        metrics.COMMIT_SECONDS.observe(self._clock.monotonic() - started)
        self._subscriber.ack(inbound)
        self.committed_batches += 1
        self._account(len(inbound), result)
        if result.new or result.position is not None:
            self._hand_on(
                Batch(result.new, (), result.committed_at or self._clock.now(), result.position)
            )

    def upkeep(self) -> None:
        """Find devices that fell silent; cheap to call often, works every few seconds."""
        now = self._clock.monotonic()
        if now < self._next_sweep:
            return
        try:
            writer, conn = self._ensure_connection()
            writer.flush_liveness()  # the sweep must see every device heard so far
            offline, position = self._sweep(conn)
        except psycopg.OperationalError as exc:
            log.warning("liveness sweep postponed, database unreachable: %s", exc)
            self._drop_connection()
            return
        self._next_sweep = now + self._settings.liveness_sweep_s
        for reason, count in Counter(o.reason.value for o in offline).items():
            metrics.OFFLINE.labels(reason=reason).inc(count)
        if offline:
            log.info("%d device(s) went offline", len(offline))
            self._hand_on(Batch((), tuple(offline), self._clock.now(), position))

    def _sweep(self, conn: psycopg.Connection) -> tuple[list[WentOffline], int | None]:
        """The sweep and, when it found anyone, its position: in one transaction, so that a
        crash right after it cannot lose the news (the devices are already marked offline)."""
        venues = self._partition.venues(conn)
        with conn.transaction():
            now = self._clock.now()
            offline = sweep(conn, now, venues)
            position = None
            if offline:
                position = record_batch(conn, self._partition.name, now, 0, offline)
        return offline, position

    def close(self) -> None:
        if self._writer is not None:
            try:
                self._writer.flush_liveness()
            except psycopg.Error as exc:
                # Only last-seen times are lost; the messages themselves are committed.
                log.warning("last-seen times not written at shutdown: %s", exc)
        self._drop_connection()

    def _ensure_connection(self) -> tuple[BatchWriter, psycopg.Connection]:
        delay = self._settings.retry_initial_s
        while self._conn is None or self._writer is None or self._conn.closed:
            try:
                self._conn = self._connect()
                self._writer = BatchWriter(
                    self._conn, partition=self._partition.name, now=self._clock.now
                )
            except psycopg.OperationalError as exc:
                self._drop_connection()
                log.warning("database unreachable (%s); retrying in %.1f s", exc, delay)
                time.sleep(delay)
                delay = min(delay * 2, self._settings.retry_max_s)
        return self._writer, self._conn

    def _drop_connection(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            except psycopg.Error:
                log.debug("closing a broken connection failed", exc_info=True)
        self._conn, self._writer = None, None

    def _write_with_retry(
        self, inbound: list[Inbound], outcomes: list[Outcome | None]
    ) -> WriteResult:
        delay = self._settings.retry_initial_s
        while True:
            try:
                try:
                    return self._write(outcomes)
                except psycopg.OperationalError:
                    raise
                except psycopg.Error as exc:
                    log.error(
                        "a batch of %d was refused by the store (%s); storing it message by"
                        " message to find the culprit", len(outcomes), exc,
                    )  # fmt: skip
                    return self._write_one_by_one(inbound, outcomes)
            except psycopg.OperationalError as exc:
                # The server went away or the connection broke: the batch is intact here and
                # unacknowledged at the broker; reconnect and write it again.
                metrics.WRITE_FAILURES.labels(error=type(exc).__name__).inc()
                log.warning(
                    "batch of %d not stored (%s); retrying in %.1f s", len(outcomes), exc, delay
                )
                self._drop_connection()
                time.sleep(delay)
                delay = min(delay * 2, self._settings.retry_max_s)

    def _write(self, outcomes: Sequence[Outcome | None]) -> WriteResult:
        writer, _ = self._ensure_connection()
        decoded = [o for o in outcomes if o is not None and not isinstance(o, Rejected)]
        rejected = [o for o in outcomes if isinstance(o, Rejected) and o.reason not in _OURS]
        now = self._clock.monotonic()
        # An availability change (a Last Will) is news for the control room: write it at once.
        flush = now >= self._next_liveness or any(isinstance(r, Availability) for r in decoded)
        result = writer.write(decoded, rejected, flush_liveness=flush)
        if flush:
            self._next_liveness = now + self._settings.liveness_flush_s
        return result

    def _write_one_by_one(
        self, inbound: list[Inbound], outcomes: list[Outcome | None]
    ) -> WriteResult:
        """Each message in its own transaction; one the store refuses is kept as rejected."""
        parts = []
        for item, outcome in zip(inbound, outcomes, strict=True):
            try:
                parts.append(self._write([outcome]))
            except psycopg.OperationalError:
                raise
            except psycopg.Error as exc:
                detail = f"the store refused it: {exc}".replace("\x00", "")[:500]
                refused = Rejected(
                    item.topic, item.payload, item.received_at, RejectReason.STORE_REFUSED, detail
                )
                parts.append(self._write([refused]))
        return WriteResult.merge(parts)

    def _account(self, received: int, result: WriteResult) -> None:
        metrics.BATCH_SIZE.observe(received)
        for kind, count in Counter(type(r).__name__ for r in result.new).items():
            metrics.STORED.labels(table=kind).inc(count)
        for table, count in result.duplicates.items():
            metrics.DUPLICATES.labels(table=table).inc(count)
        for reason, count in result.rejected.items():
            metrics.REJECTED.labels(reason=reason).inc(count)
        now = self._clock.now()
        step = max(1, len(result.new) // 50)  # a sample keeps the histogram off the hot path
        for record in result.new[::step]:
            ts = getattr(record, "ts", None)
            if ts is not None:
                metrics.LAG_SECONDS.observe((now - ts).total_seconds())

    def _hand_on(self, batch: Batch) -> None:
        for consumer in self._consumers:
            try:
                consumer.consume(batch)
            except Exception:
                # A failing detector must not stop storage; it is logged loudly and skipped.
                log.exception("consumer %s failed on a batch", type(consumer).__name__)
