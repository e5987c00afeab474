# ruff: noqa: RUF001  # full-width punctuation: Chinese typography
"""Evaluation: every stored batch through rules, risk, cases and alerting, exactly once in effect.

Ingest hands each committed batch, with its position (ingest.positions), to the `Evaluator`'s
queue and goes on storing. The evaluator's own thread runs each batch through the rules and
risk stages (their state lives in memory), stores their evidence and scores with the `rules`
watermark in one transaction, applies scans and hazard evidence with the `cases` watermark, and
queues one group for alerting, which commits its decisions with the `alerting` watermark. A
crash anywhere therefore leaves each stage either before or after a batch, never half-way.

On start-up, before any live batch: a warm-up replays the recent history every stage has
already processed (the look-back: the longest rule window per source plus a margin) through
rules and risk with their outputs thrown away, which rebuilds windows and baselines; then every
batch stored after the lowest watermark is replayed through the same path as live input, each
stage skipping what its watermark says it has done. A queue that overflows (evaluation slower
than storage for a long while) is dropped and read back from the store the same way.

`Supervisor` wraps each stage's work on a batch: a raise is retried with backoff; a batch that
keeps failing is quarantined (`quarantined_batch`, `/metrics`, `/api/v1/quarantined`), the
stage's part of `/healthz` turns unhealthy, and the control room is told once per episode.
The test-only fault hook (`FW_TEST_FAULT=stage:subject`) makes a stage raise on every
batch that holds that device or venue, so that the path can be tried on a real engine.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Final, TypeVar, cast
from zoneinfo import ZoneInfo

import psycopg
from prometheus_client import Counter, Gauge

from alerting.stage import AlertStage
from cases import CaseIntake
from cases.intake import ScanApplied
from firewatch.clock import Clock
from ingest import positions
from ingest.readback import TABLES, first_position_since, stored_batches
from ingest.records import Availability, DeviceEvent, DeviceStatus, Reading, VenueScan
from ingest.stream import Batch
from models.fusion import RiskScore
from models.stage import RiskStage
from models.store import ScoreWriter
from rules.engine import RuleEngine
from rules.evidence import Category, Evidence
from rules.store import write_evidence

log = logging.getLogger("firewatch.engine")

T = TypeVar("T")
Connect = Callable[[], psycopg.Connection]
Notify = Callable[[str, str, str, str], None]
"""(key, level, title, text): a notice to the control room, queued once per key."""

LAG: Final = Gauge(
    "firewatch_evaluation_lag_seconds",
    "Age of the oldest stored input the stage has not yet evaluated (0: none waiting)",
    ["stage"],
)
FAILURES: Final = Counter(
    "firewatch_stage_failures_total", "Attempts of a stage on a batch that raised", ["stage"]
)
QUARANTINED: Final = Counter(
    "firewatch_quarantined_total", "Batches or inputs a stage kept failing on, set aside", ["stage"]
)
REPLAYED: Final = Counter(
    "firewatch_replayed_batches_total",
    "Stored batches read back at start-up (warm: state only; replay: not yet evaluated)",
    ["phase"],
)

FAULT_ENV: Final = "FW_TEST_FAULT"
STAGE_NAMES: Final = {"rules": "规则", "risk": "风险评分", "cases": "案件", "alerting": "报警"}
DEGRADED_HOLD_S: Final = 900.0
"""How long a stage's health stays degraded after it quarantined something: a person looks."""
WATERMARK_EVERY_S: Final = 1.0
"""A batch that gave no output moves its stage's watermark at most this often."""
REPLAY_MERGE: Final = 5000
"""Records per evaluation while replaying what every stage has yet to see: consecutive stored
batches evaluated as one (scored at once, decided in one transaction per stage), so that a
backlog is caught up faster than it came in."""
LOOKBACK_MARGIN_S: Final = 300.0
LOOKBACK_MIN_S: Final = 900.0
"""Risk baselines and the two-in-a-row check want some history even where no rule does."""
_SOURCE_TABLES: Final = {
    "reading": ("reading",),
    "event": ("device_event",),
    "status": ("device_status",),
    "scan": ("venue_scan",),
    "offline": ("device_availability",),
}


class InjectedFaultError(Exception):
    """Raised by the test-only fault hook."""


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


def lookback_s(longest: Mapping[str, float], configured: float | None) -> dict[str, float]:
    """Per ingest table, how far back the warm-up reads.

    >>> lookback_s({"reading": 7200.0, "event": 604800.0}, None)["reading"]
    7500.0
    >>> lookback_s({"reading": 7200.0}, 60.0)["device_event"]
    60.0
    """
    if configured is not None:
        return dict.fromkeys(TABLES, configured)
    out = dict.fromkeys(TABLES, LOOKBACK_MIN_S)
    for source, span in longest.items():
        for table in _SOURCE_TABLES.get(source, ()):
            out[table] = max(out[table], span + LOOKBACK_MARGIN_S)
    return out


def prefetched(connect: Connect, partition: str, after: int, depth: int = 4) -> Iterator[Batch]:
    """`stored_batches` read ahead on a connection and thread of their own, so that the
    database's work on the next chunk overlaps the stages' work on this one."""
    ahead: queue.Queue[Batch | BaseException | None] = queue.Queue(maxsize=depth * 50)
    done = threading.Event()

    def read() -> None:
        try:
            with connect() as conn:
                for batch in stored_batches(conn, partition, after):
                    while not done.is_set():
                        try:
                            ahead.put(batch, timeout=0.5)
                            break
                        except queue.Full:
                            continue
                    if done.is_set():
                        return
            ahead.put(None)
        except BaseException as exc:  # handed to the reader, raised there
            ahead.put(exc)

    threading.Thread(target=read, name="evaluation-readback", daemon=True).start()
    try:
        while (item := ahead.get()) is not None:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        done.set()


def merged(batches: Iterable[Batch], done_below: int, size: int) -> Iterator[Batch]:
    """Consecutive batches past `done_below` (every stage's watermark) joined up to `size`
    records: one position then stands for them all (the last), so each stage still takes
    them whole or not at all. Batches some stage has already done pass one by one.

    >>> from datetime import UTC, datetime
    >>> t = datetime(2026, 1, 1, tzinfo=UTC)
    >>> got = merged([Batch((), (), t, p) for p in (3, 4, 5, 6)], 4, 10)
    >>> [b.position for b in got]
    [3, 4, 6]
    """
    held: list[Batch] = []
    count = 0
    for batch in batches:
        if batch.position is None or batch.position <= done_below:
            yield from _joined(held)
            held, count = [], 0
            yield batch
            continue
        held.append(batch)
        count += len(batch.records)
        if count >= size:
            yield from _joined(held)
            held, count = [], 0
    yield from _joined(held)


def _joined(held: list[Batch]) -> Iterator[Batch]:
    if len(held) == 1:
        yield held[0]
    elif held:
        last = held[-1]
        records = tuple(r for b in held for r in b.records)
        offline = tuple(o for b in held for o in b.offline)
        yield Batch(records, offline, last.committed_at, last.position)


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

    def run_split(
        self, stage: str, batch: Batch, work: Callable[[Batch], list[T]]
    ) -> list[T]:
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


@dataclass(frozen=True, slots=True)
class Wiring:
    """The stages the evaluator drives."""

    rules: RuleEngine
    risk: RiskStage
    alerting: AlertStage
    cases: CaseIntake | None = None
    more_sinks: Sequence[Callable[[Sequence[Evidence]], object]] = ()


class Evaluator:
    """An `ingest.stream.Consumer` that only queues; its thread does the evaluation."""

    def __init__(
        self,
        connect: Connect,
        clock: Clock,
        partition: str,
        stages: Wiring,
        supervisor: Supervisor,
        *,
        lookback: Mapping[str, float],
        lag_alert_s: float = 10.0,
        capacity: int = 500,
    ) -> None:
        self._connect = connect
        self._clock = clock
        self._partition = partition
        self._s = stages
        self._sup = supervisor
        self._lookback = dict(lookback)
        self._lag_alert_s = lag_alert_s
        self._queue: queue.Queue[Batch] = queue.Queue(maxsize=capacity)
        self._overflowed = threading.Event()
        self._conn: psycopg.Connection | None = None
        self._marks: dict[str, int] = dict.fromkeys(positions.STAGES, 0)
        self._pending: dict[str, int] = {}  # watermarks moved in memory, not yet stored
        self._stored_at = 0.0
        self._last = 0  # the last position evaluated
        self._oldest: deque[tuple[int, datetime]] = deque()  # queued: position, committed
        self._lag_told: datetime | None = None
        self.ready = threading.Event()  # start-up replay done: live batches flow
        self.evaluated = 0
        self.started_at: float | None = None  # monotonic: when the thread began
        self.thread: threading.Thread | None = None

    # -- the ingest side -------------------------------------------------------------------

    def consume(self, batch: Batch) -> None:
        try:
            self._queue.put_nowait(batch)
        except queue.Full:
            # Nothing is lost: the batch is stored and will be read back from there.
            if not self._overflowed.is_set():
                log.warning("evaluation is behind storage; reading stored batches back instead")
            self._overflowed.set()
            return
        if batch.position is not None:
            self._oldest.append((batch.position, batch.committed_at))

    # -- the evaluation thread ------------------------------------------------------------

    def start(self, stop: threading.Event) -> threading.Thread:
        self.thread = threading.Thread(target=self.run, args=(stop,), name="evaluation")
        self.thread.start()
        return self.thread

    def run(self, stop: threading.Event) -> None:
        self.started_at = time.monotonic()
        while not stop.is_set():
            try:
                self._start_up()
                break
            except psycopg.OperationalError as exc:
                log.warning("start-up replay postponed, database unreachable: %s", exc)
                self._drop()
                stop.wait(1.0)
        self.ready.set()
        while not stop.is_set():
            try:
                self._live(stop)
            except psycopg.OperationalError as exc:
                log.warning("evaluation: database unreachable (%s); will catch up", exc)
                self._drop()
                self._overflowed.set()  # what was queued is read back when it returns
                stop.wait(1.0)
        self._flush_marks(force=True, quiet=True)

    def _live(self, stop: threading.Event) -> None:
        while not stop.is_set():
            if self._overflowed.is_set():
                self._catch_up()
            try:
                batch = self._queue.get(timeout=0.2)
            except queue.Empty:
                self._flush_marks(force=True)
                self._watch_lag()
                continue
            if batch.position is None or batch.position > self._last:
                self._evaluate(batch)
            self._flush_marks()
            self._watch_lag()

    def _db(self) -> psycopg.Connection:
        if self._conn is None or self._conn.closed:
            self._conn = self._connect()
        return self._conn

    def _drop(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _start_up(self) -> None:
        conn = self._db()
        self._marks = positions.watermarks(conn, self._partition)
        conn.commit()
        low = min(self._marks.values())
        started = time.monotonic()
        now = self._clock.now()
        floors = {}
        for table, span in self._lookback.items():
            first = first_position_since(conn, self._partition, now - timedelta(seconds=span))
            floors[table] = first if first is not None else low + 1
        conn.commit()
        warm_from = min(floors.values())
        warm = records = 0
        if warm_from <= low:
            for batch in stored_batches(conn, self._partition, warm_from - 1, low, floors):
                self._run_stages(batch, warm=True)
                warm += 1
                records += len(batch.records)
            REPLAYED.labels(phase="warm").inc(warm)
        log.info(
            "warm-up: %d stored batches (%d records) of the last %s rebuilt rule windows and"
            " baselines in %.1f s",
            warm, records, _spans(self._lookback), time.monotonic() - started,
        )  # fmt: skip
        self._last = low
        replayed = self._catch_up()
        log.info(
            "start-up replay: %d batches stored after the watermarks (%s) evaluated",
            replayed, ", ".join(f"{k} {v}" for k, v in self._marks.items()),
        )  # fmt: skip

    def _catch_up(self) -> int:
        """Evaluate what is stored beyond the last position evaluated; the queue's copies of
        those batches are then skipped."""
        self._overflowed.clear()
        count = 0
        while True:
            found = 0
            stored = prefetched(self._connect, self._partition, self._last)
            for batch in merged(stored, max(self._marks.values()), REPLAY_MERGE):
                self._evaluate(batch)
                self._flush_marks()
                self._watch_lag(batch.committed_at)
                found += 1
            count += found
            REPLAYED.labels(phase="replay").inc(found)
            if not found or not self._overflowed.is_set():
                return count
            self._overflowed.clear()

    def _evaluate(self, batch: Batch) -> None:
        self._run_stages(batch, warm=False)
        self.evaluated += 1
        if batch.position is not None:
            self._last = max(self._last, batch.position)
            while self._oldest and self._oldest[0][0] <= self._last:
                self._oldest.popleft()

    def _run_stages(self, batch: Batch, *, warm: bool) -> None:
        s, sup, pos = self._s, self._sup, batch.position
        evidence = sup.run_split("rules", batch, s.rules.evaluate)
        unscored: list[RiskScore] = []
        scores = sup.run(
            "risk", batch, lambda: [*s.risk.take_evidence(evidence), *s.risk.score(batch.records)],
            unscored,
        )  # fmt: skip
        if warm:
            return
        if pos is None:  # a batch without a position (tests, the demo): the old doors
            self._outputs(batch, evidence, scores, None)
            if s.cases is not None:
                unmarked = s.cases
                sup.run("cases", batch, lambda: _cases_unmarked(unmarked, batch, evidence), None)
            s.alerting.take_evidence(evidence)
            s.alerting.write(scores)
            s.alerting.consume(batch)
            return
        if pos > self._marks["rules"]:
            store = lambda: self._outputs(batch, evidence, scores, pos)  # noqa: E731
            sup.run("rules", batch, store, None, hook=False)
            for sink in s.more_sinks:
                sink(evidence)
        if s.cases is not None and pos > self._marks["cases"]:
            hazards = [e for e in evidence if e.category is Category.HAZARD]
            scans = any(isinstance(r, VenueScan) for r in batch.records)
            if hazards or scans:
                cases, applied = s.cases, list[ScanApplied]()
                work = lambda: cases.take_batch(batch, hazards, pos, self._partition)  # noqa: E731
                sup.run("cases", batch, work, applied)
                self._marks["cases"] = pos
            else:
                self._pending["cases"] = pos
        if pos > self._marks["alerting"]:
            s.alerting.take_batch(
                pos, self._partition, batch, evidence, scores, committed_at=batch.committed_at
            )

    def _outputs(
        self, batch: Batch, evidence: list[Evidence], scores: list[RiskScore], pos: int | None
    ) -> None:
        """Evidence and scores, stored with the `rules` watermark in one transaction; a batch
        that gave neither only moves the watermark in memory (stored within a second)."""
        if not evidence and not scores:
            if pos is not None:
                self._pending["rules"] = pos
            return
        conn = self._db()
        with conn.transaction():
            now = self._clock.now()
            if evidence:
                write_evidence(conn, evidence, now)
            if scores:
                ScoreWriter(conn).write(scores)
            if pos is not None:
                positions.advance(conn, "rules", self._partition, pos, now)
        conn.commit()
        if pos is not None:
            self._marks["rules"] = pos
            self._pending.pop("rules", None)

    def _flush_marks(self, *, force: bool = False, quiet: bool = False) -> None:
        if not self._pending:
            return
        if not force and time.monotonic() - self._stored_at < WATERMARK_EVERY_S:
            return
        try:
            conn = self._db()
            with conn.transaction():
                for stage, pos in self._pending.items():
                    positions.advance(conn, stage, self._partition, pos, self._clock.now())
            conn.commit()
        except psycopg.OperationalError:
            if quiet:
                return
            raise
        for stage, pos in self._pending.items():
            self._marks[stage] = max(self._marks[stage], pos)
        self._pending.clear()
        self._stored_at = time.monotonic()

    # -- evaluation lag ---------------------------------------------------------------------

    def lag_s(self, oldest: datetime | None = None) -> dict[str, float]:
        """Per stage, the age of the oldest stored input it has not yet evaluated."""
        now = self._clock.now()
        first = oldest
        if first is None:
            try:  # /healthz asks from another thread while this one pops
                first = self._oldest[0][1]
            except IndexError:
                first = None
        mine = max(0.0, (now - first).total_seconds()) if first else 0.0
        alerting = self._s.alerting.oldest_pending()
        theirs = max(0.0, (now - alerting).total_seconds()) if alerting else 0.0
        return {"rules": mine, "cases": mine, "alerting": max(mine, theirs)}

    def _watch_lag(self, oldest: datetime | None = None) -> None:
        lags = self.lag_s(oldest)
        for stage, lag in lags.items():
            LAG.labels(stage=stage).set(lag)
        worst = max(lags, key=lambda k: lags[k])
        if lags[worst] <= self._lag_alert_s:
            self._lag_told = None
            return
        if self._lag_told is not None:
            return
        self._lag_told = self._clock.now()
        local = self._lag_told.astimezone(self._sup.zone).strftime("%m-%d %H:%M:%S")
        self._sup.notify(
            f"engine/{self._partition}/lag/{self._lag_told.isoformat()}",
            "orange",
            "引擎评估滞后",
            f"消防预警引擎 {self._partition} 评估滞后：{STAGE_NAMES.get(worst, worst)}阶段有"
            f" {lags[worst]:.0f} 秒前存入的数据尚未评估（{local}），报警可能延迟。请通知运维检查。",
        )

    def caught_up(self, position: int) -> bool:
        """Whether every stage has evaluated up to `position` (for benchmarks and tests)."""
        return self._last >= position and self._s.alerting.oldest_pending() is None

    def health(self) -> str:
        if self.thread is not None and not self.thread.is_alive():
            return "the evaluation thread has stopped"
        if not self.ready.is_set():
            return "ok"  # replaying stored batches at start-up; the lag says how far behind
        lags = self.lag_s()
        worst = max(lags.values())
        if worst > self._lag_alert_s:
            return f"lagging: the oldest unevaluated input is {worst:.0f} s old"
        return "ok"


def _cases_unmarked(cases: CaseIntake, batch: Batch, evidence: Sequence[Evidence]) -> None:
    cases.take_evidence(evidence)
    cases.consume(batch)


def _spans(lookback: Mapping[str, float]) -> str:
    return ", ".join(f"{table} {span / 60:.0f} min" for table, span in sorted(lookback.items()))


def fault_from_env() -> Fault | None:
    fault = Fault.parse(os.environ.get(FAULT_ENV))
    if fault is not None:
        log.warning("TEST FAULT HOOK ACTIVE: the %s stage raises on %s", fault.stage, fault.subject)
    return fault
