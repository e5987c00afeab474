"""The ingest loop: take a batch from the subscription, decode it, store it, acknowledge it,
hand it on. Nothing is acknowledged before it is committed, stored or stored as rejected.

When the database is slow or down the loop retries the same batch with backoff and takes
nothing new meanwhile; the subscription's buffer fills, paho stops reading the socket, and the
broker holds the rest. Memory stays bounded by the buffer and the MQTT Receive Maximum.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import psycopg

from firewatch.clock import Clock
from ingest import metrics
from ingest.decode import DecodeLimits, decode
from ingest.liveness import sweep
from ingest.reasons import RejectReason
from ingest.records import Availability, Decoded, Rejected
from ingest.registry_cache import RegistryCache
from ingest.store import BatchWriter, WriteResult
from ingest.stream import Batch, Consumer
from ingest.subscribe import Inbound, Subscriber

log = logging.getLogger("firewatch.ingest")

Connect = Callable[[], psycopg.Connection]

# Our own announcements come back on the wildcard subscription from other engine processes;
# they are acknowledged and dropped, not stored as device data nor as rejections.
_OURS = frozenset({RejectReason.ENGINE_TOPIC})


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


class IngestPipeline:
    def __init__(
        self,
        subscriber: Subscriber,
        connect: Connect,
        clock: Clock,
        settings: IngestSettings,
        consumers: Sequence[Consumer] = (),
    ) -> None:
        self._subscriber = subscriber
        self._connect = connect
        self._clock = clock
        self._settings = settings
        self._consumers = list(consumers)
        self.registry = RegistryCache()
        self._conn: psycopg.Connection | None = None
        self._writer: BatchWriter | None = None
        self._next_refresh = 0.0
        self._next_sweep = 0.0
        self._next_liveness = 0.0
        self.committed_batches = 0

    def run(self, stop: threading.Event) -> None:
        """Until `stop` is set; then drain what was already received and return."""
        try:
            while True:
                stopping = stop.is_set()
                inbound = self._collect(0.0 if stopping else self._settings.batch_max_age_s)
                if inbound:
                    self._process(inbound, stop)
                self._upkeep(stop)
                if stopping and not inbound:
                    self._last_liveness_flush()
                    return
        finally:
            if self._conn is not None:
                self._conn.close()

    def _collect(self, max_age_s: float) -> list[Inbound]:
        """Up to batch_size messages, waiting at most max_age_s after the first one arrives."""
        size = self._settings.batch_size
        batch = self._subscriber.take(size, max_age_s or 0.05)
        if not batch or max_age_s == 0:
            return batch
        deadline = self._clock.monotonic() + max_age_s
        while len(batch) < size:
            left = deadline - self._clock.monotonic()
            if left <= 0:
                break
            batch.extend(self._subscriber.take(size - len(batch), left))
        return batch

    def _process(self, inbound: list[Inbound], stop: threading.Event) -> None:
        metrics.RECEIVED.inc(len(inbound))
        metrics.QUEUE_DEPTH.set(self._subscriber.queued + len(inbound))
        self._ensure_connection(stop)
        limits, registry = self._settings.limits, self.registry
        outcomes = [
            decode(item.topic, item.payload, item.received_at, registry, limits) for item in inbound
        ]
        started = self._clock.monotonic()
        result = self._write_with_retry(inbound, outcomes, stop)
        metrics.COMMIT_SECONDS.observe(self._clock.monotonic() - started)
        self._subscriber.ack(inbound)
        self.committed_batches += 1
        self._account(len(inbound), result)
        self._hand_on(Batch(result.new, (), self._clock.now()))

    def _write_with_retry(
        self, inbound: list[Inbound], outcomes: list[Decoded | Rejected], stop: threading.Event
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
                        " message to find the culprit",
                        len(outcomes),
                        exc,
                    )
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
                self._ensure_connection(stop, force=True)

    def _write(self, outcomes: Sequence[Decoded | Rejected]) -> WriteResult:
        assert self._writer is not None
        decoded = [o for o in outcomes if not isinstance(o, Rejected)]
        rejected = [o for o in outcomes if isinstance(o, Rejected) and o.reason not in _OURS]
        now = self._clock.monotonic()
        # An availability change (a Last Will) is news for the control room: write it at once.
        flush = now >= self._next_liveness or any(isinstance(r, Availability) for r in decoded)
        result = self._writer.write(decoded, rejected, flush_liveness=flush)
        if flush:
            self._next_liveness = now + self._settings.liveness_flush_s
        return result

    def _write_one_by_one(
        self, inbound: list[Inbound], outcomes: list[Decoded | Rejected]
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

    def _ensure_connection(self, stop: threading.Event, force: bool = False) -> None:
        delay = self._settings.retry_initial_s
        while self._conn is None or self._conn.closed:
            try:
                self._conn = self._connect()
                self._writer = BatchWriter(self._conn)
                self._next_refresh = 0.0
            except psycopg.OperationalError as exc:
                self._drop_connection()
                log.warning("database unreachable (%s); retrying in %.1f s", exc, delay)
                time.sleep(delay)
                delay = min(delay * 2, self._settings.retry_max_s)
        if force or self._clock.monotonic() >= self._next_refresh:
            self._refresh_registry()

    def _refresh_registry(self) -> None:
        assert self._conn is not None
        self.registry.refresh(self._conn)
        self._conn.commit()
        self._next_refresh = self._clock.monotonic() + self._settings.registry_refresh_s

    def _drop_connection(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            except psycopg.Error:
                log.debug("closing a broken connection failed", exc_info=True)
        self._conn, self._writer = None, None

    def _upkeep(self, stop: threading.Event) -> None:
        now = self._clock.monotonic()
        if now < self._next_sweep and now < self._next_refresh:
            return
        try:
            self._ensure_connection(stop)
            if now >= self._next_sweep:
                assert self._conn is not None
                assert self._writer is not None
                self._writer.flush_liveness()  # the sweep must see every device heard so far
                offline = sweep(self._conn, self._clock.now())
                self._next_sweep = now + self._settings.liveness_sweep_s
                for change in offline:
                    metrics.OFFLINE.labels(reason=change.reason.value).inc()
                if offline:
                    log.info("%d device(s) went offline", len(offline))
                    self._hand_on(Batch((), tuple(offline), self._clock.now()))
        except psycopg.OperationalError as exc:
            log.warning("upkeep postponed, database unreachable: %s", exc)
            self._drop_connection()

    def _last_liveness_flush(self) -> None:
        if self._writer is None:
            return
        try:
            self._writer.flush_liveness()
        except psycopg.Error as exc:
            # Only last-seen times are lost; the messages themselves are committed.
            log.warning("last-seen times not written at shutdown: %s", exc)

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
