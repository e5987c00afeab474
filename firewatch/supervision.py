# ruff: noqa: RUF001  # full-width punctuation: Chinese typography
"""Supervision of the stages: a stage that raises on a batch does not lose it.

`Supervisor.run` retries the stage's work on a batch with backoff (a database outage is waited
out, not counted); a batch that keeps failing is quarantined (`quarantined_batch`, listed by
`GET /api/v1/quarantined`, counted in `/metrics`) and the stage moves on. `run_split` takes the
last try record by record, so that only what still fails is kept aside. The stage's part of
`/healthz` says since when it fails, then that it quarantined something (for 15 minutes, so a
person looks), and the control room is told once per episode ("引擎降级"). The alerting stage
takes the same supervisor through `alerting.stage.Supervision`.

The test-only fault hook, `FW_TEST_FAULT=stage:subject`, makes a stage raise on every batch
(or input) that holds that device or venue: the path can be tried on a real engine.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final, TypeVar, cast
from zoneinfo import ZoneInfo

import psycopg
from prometheus_client import Counter

from firewatch.errors import InjectedFaultError
from firewatch.ingest import positions
from firewatch.ingest.records import Availability, DeviceEvent, DeviceStatus, Reading
from firewatch.ingest.stream import Batch
from firewatch.kernel.clock import Clock

log = logging.getLogger("firewatch.engine")

T = TypeVar("T")
Connect = Callable[[], psycopg.Connection]
Notify = Callable[[str, str, str, str], None]
"""(key, level, title, text): a notice to the control room, queued once per key."""

FAILURES: Final = Counter(
    "firewatch_stage_failures_total", "Attempts of a stage on a batch that raised", ["stage"]
)
QUARANTINED: Final = Counter(
    "firewatch_quarantined_total", "Batches or inputs a stage kept failing on, set aside", ["stage"]
)

FAULT_ENV: Final = "FW_TEST_FAULT"
STAGE_NAMES: Final = {"rules": "规则", "risk": "风险评分", "cases": "案件", "alerting": "报警"}
DEGRADED_HOLD_S: Final = 900.0
"""How long a stage's health stays degraded after it quarantined something: a person looks."""


@dataclass(frozen=True, slots=True)
class Fault:
    stage: str
    subject: str

    @classmethod
    def parse(cls, value: str | None) -> Fault | None:
        """`stage:subject` (a device or venue id).

        >>> Fault.parse("rules:D-9"), Fault.parse(""), Fault.parse("rules")
        (Fault(stage='rules', subject='D-9'), None, None)
        """
        stage, _, subject = (value or "").partition(":")
        return cls(stage, subject) if stage and subject else None


def subjects(batch: Batch) -> set[str]:
    found: set[str] = set()
    for r in batch.records:
        if isinstance(r, Reading | DeviceEvent | DeviceStatus | Availability):
            found.add(r.device_id)
        found.add(r.venue_id)
    for o in batch.offline:
        found.update((o.device_id, o.venue_id))
    return found


@dataclass(slots=True)
class _Health:
    failing_since: datetime | None = None
    last_error: str = ""
    quarantined: int = 0
    last_quarantine: float | None = None  # monotonic
    told: datetime | None = None  # the episode the control room was told of


@dataclass(slots=True)
class Supervisor:
    """Retries, quarantine, health and trouble notices for the stages of one partition."""

    connect: Connect
    clock: Clock
    partition: str
    notify: Notify
    zone: ZoneInfo
    retries: int = 3
    first_backoff_s: float = 0.5
    fault: Fault | None = None
    stop: threading.Event = field(default_factory=threading.Event)
    _health: dict[str, _Health] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def backoff_s(self, attempt: int) -> float:
        return float(min(30.0, self.first_backoff_s * 2 ** (attempt - 1)))

    def check_fault(self, stage: str, subjects: Iterable[str]) -> None:
        f = self.fault
        if f is not None and f.stage == stage and f.subject in set(subjects):
            raise InjectedFaultError(f"{FAULT_ENV}: {stage} made to fail on {f.subject}")

    def run(
        self,
        stage: str,
        batch: Batch,
        work: Callable[[], T],
        fallback: T,
        *,
        hook: bool = True,
        retries: int | None = None,
        keep: bool = True,
    ) -> T:
        """`work` on `batch`, retried; quarantined after `retries` retries (then `fallback`).
        A database outage is waited out, not counted: the batch is not at fault. `hook`: the
        fault hook applies (once per stage and batch: not to storing a stage's outputs).
        `keep`: quarantine the batch when it keeps failing (else only give `fallback`)."""
        retries = self.retries if retries is None else retries
        attempt = 0
        names = subjects(batch) if self.fault is not None and hook else set()
        while True:
            try:
                self.check_fault(stage, names)
                out = work()
            except psycopg.OperationalError as exc:
                log.warning("%s: database unreachable (%s); retrying", stage, exc)
                if self.stop.wait(1.0):
                    raise
                continue
            except Exception as exc:
                attempt += 1
                log.exception("%s failed on batch %s (attempt %d)", stage, batch.position, attempt)
                self.failed(stage, batch.position or 0, exc)
                if attempt <= retries:
                    time.sleep(self.backoff_s(attempt))
                    continue
                if keep:
                    self._keep(stage, batch, attempt, exc)
                return fallback
            self.recovered(stage)
            return out

    def run_split(self, stage: str, batch: Batch, work: Callable[[Batch], list[T]]) -> list[T]:
        """As `run`, but the last attempt takes a batch record by record (and its offline
        devices apart): only what still fails is quarantined, with the record, so that one bad
        reading cannot cost the evidence of the thousands beside it."""
        out = self.run(stage, batch, lambda: work(batch), cast("list[T]", None),
                       retries=self.retries - 1, keep=False)  # fmt: skip
        if out is not None:
            return out
        found: list[T] = []
        kept = False
        parts = [Batch((r,), (), batch.committed_at, batch.position) for r in batch.records]
        if batch.offline:
            parts.append(Batch((), batch.offline, batch.committed_at, batch.position))
        for part in parts:
            try:
                self.check_fault(stage, subjects(part) if self.fault is not None else ())
                found += work(part)
            except psycopg.OperationalError:
                raise
            except Exception as exc:
                item = repr(part.records[0] if part.records else part.offline)
                self.failed(stage, batch.position or 0, exc)
                self._keep(stage, batch, self.retries + 1, exc, item)
                kept = True
        if not kept:
            self.recovered(stage)  # the batch failed whole, never in parts
        return found

    def _keep(
        self, stage: str, batch: Batch, attempts: int, exc: BaseException, item: str | None = None
    ) -> None:
        error = f"{type(exc).__name__}: {exc}"
        position = batch.position or 0
        while True:
            try:
                with self.connect() as conn:
                    positions.quarantine(
                        conn, stage, self.partition, position,
                        attempts=attempts, error=error, now=self.clock.now(), item=item,
                    )  # fmt: skip
                break
            except psycopg.OperationalError as db:
                log.warning("quarantine of batch %s not stored yet: %s", position, db)
                if self.stop.wait(1.0):
                    raise
        self.quarantined(stage, position, attempts, error)

    # -- the Supervision protocol (alerting.stage) -----------------------------------------

    def failed(self, stage: str, position: int, exc: BaseException) -> None:
        FAILURES.labels(stage=stage).inc()
        with self._lock:
            h = self._health.setdefault(stage, _Health())
            h.failing_since = h.failing_since or self.clock.now()
            h.last_error = f"{type(exc).__name__}: {exc}"[:300]

    def quarantined(self, stage: str, position: int, attempts: int, error: str) -> None:
        QUARANTINED.labels(stage=stage).inc()
        log.error(
            "%s: batch %d quarantined after %d attempts (%s); the stage goes on",
            stage, position, attempts, error,
        )  # fmt: skip
        with self._lock:
            h = self._health.setdefault(stage, _Health())
            since = h.failing_since or self.clock.now()
            h.failing_since, h.last_error = since, error[:300]
            h.quarantined += 1
            h.last_quarantine = self.clock.monotonic()
            tell = h.told != since
            h.told = since
        if tell:
            local = since.astimezone(self.zone).strftime("%m-%d %H:%M:%S")
            name = STAGE_NAMES.get(stage, stage)
            self.notify(
                f"engine/{self.partition}/{stage}/degraded/{since.isoformat()}",
                "orange",
                "引擎降级",
                f"消防预警引擎 {self.partition} 降级：{name}阶段自 {local} 起处理失败"
                f"（{error[:80]}），出错的数据已隔离待查，其余数据和阶段照常运行。请通知运维检查。",
            )

    def recovered(self, stage: str) -> None:
        with self._lock:
            h = self._health.get(stage)
            if h is not None:
                h.failing_since = None

    def health(self, stage: str) -> str:
        """For `/healthz`: "ok", or what is wrong with the stage since when."""
        with self._lock:
            h = self._health.get(stage)
            if h is None:
                return "ok"
            if h.failing_since is not None:
                local = h.failing_since.astimezone(self.zone).isoformat(timespec="seconds")
                return f"failing since {local}: {h.last_error}"
            recent = h.last_quarantine is not None and (
                self.clock.monotonic() - h.last_quarantine < DEGRADED_HOLD_S
            )
            if recent:
                return f"degraded: {h.quarantined} batch(es) quarantined, last: {h.last_error}"
            return "ok"


def fault_from_env() -> Fault | None:
    fault = Fault.parse(os.environ.get(FAULT_ENV))
    if fault is not None:
        log.warning("TEST FAULT HOOK ACTIVE: the %s stage raises on %s", fault.stage, fault.subject)
    return fault
