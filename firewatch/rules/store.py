"""Evidence at rest: the `evidence` table (migration 0004), written in batches off the hot path.

`EvidenceWriter` is a sink for the engine: the ingest thread only queues; a thread of its own
writes what has gathered every `max_age_s` (or `batch_size` records) in one transaction, and
retries while the database is away. A finding written twice (a retry) is stored once.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
from collections.abc import Callable, Sequence
from datetime import datetime
from types import TracebackType
from typing import Any

import psycopg

from firewatch.kernel.clock import Clock
from firewatch.kernel.contract import Level
from firewatch.rules import metrics
from firewatch.rules.evidence import Category, Evidence, ReadingRef, Scope

log = logging.getLogger("firewatch.rules")

Connect = Callable[[], psycopg.Connection]

_INSERT = """
INSERT INTO evidence (at, recorded_at, rule_id, rule_version, category, level, scope, subject_id,
                      venue_id, device_ids, hazard, summary, readings)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
ON CONFLICT DO NOTHING
"""

_SELECT = """
SELECT rule_id, rule_version, category, level, scope, subject_id, venue_id, device_ids, at,
       summary, readings, hazard
FROM evidence WHERE at >= %s AND at < %s ORDER BY at, evidence_id
"""


def _ref_json(ref: ReadingRef) -> dict[str, Any]:
    return {"device_id": ref.device_id, "ts": ref.ts.isoformat(), "seq": ref.seq,
            "field": ref.field, "value": ref.value, "table": ref.table}  # fmt: skip


def _row(e: Evidence, recorded_at: datetime) -> tuple[Any, ...]:
    readings = json.dumps([_ref_json(r) for r in e.readings], ensure_ascii=False)
    return (e.at, recorded_at, e.rule_id, e.rule_version, e.category.value, e.level.value,
            e.scope.value, e.subject_id, e.venue_id, list(e.device_ids), e.hazard, e.summary,
            readings)  # fmt: skip


def write_evidence(
    conn: psycopg.Connection, evidence: Sequence[Evidence], recorded_at: datetime
) -> None:
    """Store `evidence` in the caller's transaction."""
    with conn.cursor() as cur:
        cur.executemany(_INSERT, [_row(e, recorded_at) for e in evidence])


def read_evidence(conn: psycopg.Connection, start: datetime, end: datetime) -> list[Evidence]:
    out = []
    for (
        rule,
        version,
        cat,
        level,
        scope,
        subject,
        venue,
        devices,
        at,
        summary,
        refs,
        hazard,
    ) in conn.execute(_SELECT, (start, end)):
        readings = tuple(
            ReadingRef(r["device_id"], datetime.fromisoformat(r["ts"]), r["seq"], r["field"],
                       r["value"], r["table"])
            for r in refs
        )  # fmt: skip
        out.append(Evidence(rule, version, Category(cat), Level(level), Scope(scope), subject,
                            venue, tuple(devices), at, summary, readings, hazard))  # fmt: skip
    return out


class EvidenceWriter:
    """An evidence sink that stores in batches from its own thread; use it as a context
    manager (leaving writes what is still queued)."""

    def __init__(
        self,
        connect: Connect,
        clock: Clock,
        *,
        batch_size: int = 500,
        max_age_s: float = 0.5,
        capacity: int = 100_000,
        retry_s: float = 1.0,
    ) -> None:
        self._connect = connect
        self._clock = clock
        self._batch_size = batch_size
        self._max_age_s = max_age_s
        self._retry_s = retry_s
        self._queue: queue.Queue[Evidence] = queue.Queue(maxsize=capacity)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rules-evidence", daemon=True)
        self._conn: psycopg.Connection | None = None
        self.written = 0
        self.dropped = 0

    def __call__(self, evidence: Sequence[Evidence]) -> None:
        for e in evidence:
            try:
                self._queue.put_nowait(e)
            except queue.Full:
                self.dropped += 1
                log.error("evidence queue full: %s of %s at %s not stored", e.rule_id,
                          e.subject_id, e.at)  # fmt: skip

    def __enter__(self) -> EvidenceWriter:
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        self._thread.join(30)
        if self._conn is not None:
            self._conn.close()

    def flush(self, timeout_s: float = 10.0) -> bool:
        """Wait until everything queued so far is written (for tests and shutdown)."""
        done = self._queue.all_tasks_done
        with done:
            return done.wait_for(lambda: self._queue.unfinished_tasks == 0, timeout_s)

    def _take(self) -> list[Evidence]:
        try:
            first = self._queue.get(timeout=self._max_age_s)
        except queue.Empty:
            return []
        batch = [first]
        while len(batch) < self._batch_size:
            try:
                batch.append(self._queue.get_nowait())
            except queue.Empty:
                break
        return batch

    def _run(self) -> None:
        while not (self._stop.is_set() and self._queue.empty()):
            batch = self._take()
            if not batch:
                continue
            while not self._write(batch) and not self._stop.is_set():
                self._stop.wait(self._retry_s)
            for _ in batch:
                self._queue.task_done()

    def _write(self, batch: list[Evidence]) -> bool:
        try:
            if self._conn is None or self._conn.closed:
                self._conn = self._connect()
            with self._conn.transaction():
                write_evidence(self._conn, batch, self._clock.now())
        except psycopg.OperationalError as exc:
            log.warning("%d evidence records not stored yet (%s); retrying", len(batch), exc)
            self._conn = None
            return False
        except psycopg.Error:
            log.exception("the store refused %d evidence records; they are dropped", len(batch))
            self.dropped += len(batch)
            return True
        self.written += len(batch)
        metrics.STORED.inc(len(batch))
        return True
