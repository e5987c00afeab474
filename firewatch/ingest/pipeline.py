"""The ingest loop: take a batch from the subscription, decode it, and pass it to the
committer, which stores it, acknowledges it and hands it on. Nothing is acknowledged before it
is committed, stored or stored as rejected.

Two threads: this one decodes, the committer writes; a hand-off queue of two batches between
them lets decoding overlap the database round trips without letting memory grow. When the
database is slow or down the committer retries, the queue fills, decoding stops, the
subscription's buffer fills, its reader stops reading the socket, and the broker holds the
rest in our session.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Sequence

import psycopg

from firewatch.ingest import metrics
from firewatch.ingest.committer import Committer, Connect, IngestSettings, Outcome
from firewatch.ingest.decode import decode
from firewatch.ingest.partition import EVERYTHING, Partition
from firewatch.ingest.registry_cache import RegistryCache
from firewatch.ingest.stream import Consumer
from firewatch.ingest.subscribe import Inbound, Subscriber
from firewatch.kernel.clock import Clock

__all__ = ["IngestPipeline", "IngestSettings"]

log = logging.getLogger("firewatch.ingest")


_Work = tuple[list[Inbound], list[Outcome | None]] | None


class IngestPipeline:
    def __init__(  # noqa: PLR0917  # the stage's parts, each named at every call site
        self,
        subscriber: Subscriber,
        connect: Connect,
        clock: Clock,
        settings: IngestSettings,
        consumers: Sequence[Consumer] = (),
        partition: Partition = EVERYTHING,
    ) -> None:
        self._partition = partition
        self._subscriber = subscriber
        self._connect = connect
        self._clock = clock
        self._settings = settings
        self.registry = RegistryCache()
        self._registry_conn: psycopg.Connection | None = None
        self._next_refresh = 0.0
        self._committer = Committer(
            subscriber, connect, clock, settings, consumers, partition=partition
        )
        self._handoff: queue.Queue[_Work] = queue.Queue(maxsize=2)
        self._failure: BaseException | None = None

    @property
    def committed_batches(self) -> int:
        return self._committer.committed_batches

    def run(self, stop: threading.Event) -> None:
        """Until `stop` is set; then drain what was already received and return."""
        writer = threading.Thread(target=self._commit_loop, name="ingest-writer")
        writer.start()
        try:
            self._refresh_registry(required=True)
            while writer.is_alive():
                stopping = stop.is_set()
                inbound = self._collect(0.0 if stopping else self._settings.batch_max_age_s)
                if inbound:
                    self._refresh_registry()
                    self._hand(inbound)
                elif stopping:
                    break
        finally:
            self._put(None)
            writer.join()
            if self._registry_conn is not None:
                self._registry_conn.close()
        if self._failure is not None:
            raise self._failure

    def _hand(self, inbound: list[Inbound]) -> None:
        metrics.RECEIVED.inc(len(inbound))
        metrics.QUEUE_DEPTH.set(self._subscriber.queued + len(inbound))
        limits, registry = self._settings.limits, self.registry
        outcomes: list[Outcome | None] = [
            decode(i.topic, i.payload, i.received_at, registry, limits) for i in inbound
        ]
        if not self._partition.everything:
            owns = self._partition.owns
            outcomes = [o if o is not None and owns(o) else None for o in outcomes]
        self._put((inbound, outcomes))

    def _put(self, work: _Work) -> None:
        # Blocks while the committer is two batches behind: that is the back-pressure.
        while True:
            try:
                self._handoff.put(work, timeout=1.0)
            except queue.Full:
                if self._failure is not None:
                    return
            else:
                return

    def _commit_loop(self) -> None:
        try:
            while True:
                try:
                    work = self._handoff.get(timeout=self._settings.liveness_sweep_s / 4)
                except queue.Empty:
                    self._committer.upkeep()
                    continue
                if work is None:
                    return
                self._committer.commit(*work)
                self._committer.upkeep()
        except BaseException as exc:
            self._failure = exc
            log.exception("the ingest writer stopped")
        finally:
            self._committer.close()

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

    def _refresh_registry(self, *, required: bool = False) -> None:
        """Follow registry changes; with the database down, keep decoding with what we have."""
        now = self._clock.monotonic()
        if now < self._next_refresh and not required:
            return
        while True:
            try:
                if self._registry_conn is None or self._registry_conn.closed:
                    self._registry_conn = self._connect()
                self.registry.refresh(self._registry_conn)
                self._registry_conn.commit()
            except psycopg.OperationalError as exc:
                self._registry_conn = None
                if not required:
                    log.warning("registry not refreshed, database unreachable: %s", exc)
                    self._next_refresh = now + self._settings.registry_refresh_s
                    return
                log.warning("registry not loaded yet, database unreachable: %s", exc)
                time.sleep(self._settings.retry_max_s)
            else:
                self._next_refresh = now + self._settings.registry_refresh_s
                return
