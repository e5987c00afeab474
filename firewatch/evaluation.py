# ruff: noqa: RUF001  # full-width punctuation: Chinese typography
"""Evaluation: every stored batch through rules, risk, cases and alerting, exactly once in effect.

Ingest hands each committed batch, with its position (ingest.positions), to the `Evaluator`'s
queue and goes on storing. The evaluator's own thread runs each batch through the stages'
doors (firewatch.doors), in the order the composition root lists them: the rules and risk
stages (their state lives in memory), their evidence and scores stored with the `rules`
watermark in one transaction, scans and hazard evidence applied with the `cases` watermark, and
one group queued for alerting, which commits its decisions with the `alerting` watermark. A
crash anywhere therefore leaves each stage either before or after a batch, never half-way.

On start-up, before any live batch: a warm-up replays the recent history every stage has
already processed (the look-back: the longest rule window per source plus a margin) through
rules and risk with their outputs thrown away, which rebuilds windows and baselines; then every
batch stored after the lowest watermark is replayed through the same path as live input, each
stage skipping what its watermark says it has done. A queue that overflows (evaluation slower
than storage for a long while) is dropped and read back from the store the same way.

Each stage's work on a batch runs under the `firewatch.supervision.Supervisor` (retries,
quarantine, health, the control room told); the evaluation lag, the age of the oldest stored
input a stage has not yet evaluated, is a metric and above `engine.lag_alert_s` a notice.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Final

import psycopg
from prometheus_client import Counter, Gauge

from firewatch.doors import Door, Mark, Step
from firewatch.ingest import positions
from firewatch.ingest.readback import TABLES, first_position_since, stored_batches
from firewatch.ingest.stream import Batch
from firewatch.kernel.clock import Clock
from firewatch.supervision import STAGE_NAMES, Supervisor

log = logging.getLogger("firewatch.engine")

Connect = Callable[[], psycopg.Connection]

LAG: Final = Gauge(
    "firewatch_evaluation_lag_seconds",
    "Age of the oldest stored input the stage has not yet evaluated (0: none waiting)",
    ["stage"],
)
REPLAYED: Final = Counter(
    "firewatch_replayed_batches_total",
    "Stored batches read back at start-up (warm: state only; replay: not yet evaluated)",
    ["phase"],
)

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


class Evaluator:
    """An `ingest.stream.Consumer` that only queues; its thread does the evaluation."""

    def __init__(
        self,
        connect: Connect,
        clock: Clock,
        partition: str,
        doors: Sequence[Door],
        supervisor: Supervisor,
        *,
        lookback: Mapping[str, float],
        lag_alert_s: float = 10.0,
        capacity: int = 500,
    ) -> None:
        self._connect = connect
        self._clock = clock
        self._partition = partition
        self._doors = list(doors)
        self._sup = supervisor
        self._lookback = dict(lookback)
        self._lag_alert_s = lag_alert_s
        # Each batch with the monotonic time it was handed on: lags are measured in real
        # seconds, whatever clock the stages run on (the demo's runs faster).
        self._queue: queue.Queue[tuple[Batch, float]] = queue.Queue(maxsize=capacity)
        self._overflowed = threading.Event()
        self._conn: psycopg.Connection | None = None
        self._marks: dict[str, int] = dict.fromkeys(positions.STAGES, 0)
        self._pending: dict[str, int] = {}  # watermarks moved in memory, not yet stored
        self._stored_at = 0.0
        self._last = 0  # the last position evaluated
        self._oldest: deque[tuple[int, float]] = deque()  # queued: position, handed on
        self._lag_told: datetime | None = None
        self.ready = threading.Event()  # start-up replay done: live batches flow
        self.evaluated = 0
        self.started_at: float | None = None  # monotonic: when the thread began
        self.thread: threading.Thread | None = None

    # -- the ingest side -------------------------------------------------------------------

    def consume(self, batch: Batch) -> None:
        try:
            now = time.monotonic()
            self._queue.put_nowait((batch, now))
        except queue.Full:
            # Nothing is lost: the batch is stored and will be read back from there.
            if not self._overflowed.is_set():
                log.warning("evaluation is behind storage; reading stored batches back instead")
            self._overflowed.set()
            return
        if batch.position is not None:
            self._oldest.append((batch.position, now))

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
                batch, since = self._queue.get(timeout=0.2)
            except queue.Empty:
                self._flush_marks(force=True)
                self._watch_lag()
                continue
            if batch.position is None or batch.position > self._last:
                self._evaluate(batch, since)
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
                since = self._stored_since(batch)
                self._evaluate(batch, since)
                self._flush_marks()
                self._watch_lag(since)
                found += 1
            count += found
            REPLAYED.labels(phase="replay").inc(found)
            if not found or not self._overflowed.is_set():
                return count
            self._overflowed.clear()

    def _stored_since(self, batch: Batch) -> float:
        """When a batch read back from the store was committed, on the monotonic clock."""
        age = (self._clock.now() - batch.committed_at).total_seconds()
        return time.monotonic() - max(0.0, age)

    def _evaluate(self, batch: Batch, since: float) -> None:
        self._run_stages(batch, warm=False, since=since)
        self.evaluated += 1
        if batch.position is not None:
            self._last = max(self._last, batch.position)
            while self._oldest and self._oldest[0][0] <= self._last:
                self._oldest.popleft()

    def _run_stages(self, batch: Batch, *, warm: bool, since: float = 0.0) -> None:
        """The batch through every door in order: in the warm-up only those that keep state;
        else each whose watermark has not passed it."""
        step, pos = Step(batch, self._partition, since), batch.position
        for door in self._doors:
            if warm and not door.warms:
                continue
            if door.mark is not None and pos is not None and pos <= self._marks[door.mark]:
                continue
            mark = door.take(step, self._sup)
            if pos is None or door.mark is None:
                continue
            if mark is Mark.STORED:
                self._marks[door.mark] = pos
                self._pending.pop(door.mark, None)
            elif mark is Mark.PENDING:
                self._pending[door.mark] = pos

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

    def lag_s(self, oldest: float | None = None) -> dict[str, float]:
        """Per stage, the age (seconds) of the oldest stored input it has not yet evaluated;
        `oldest`: the monotonic time of one being evaluated now, if older than the queue's."""
        now = time.monotonic()
        first = oldest
        if first is None:
            try:  # /healthz asks from another thread while this one pops
                first = self._oldest[0][1]
            except IndexError:
                first = None
        mine = max(0.0, now - first) if first is not None else 0.0
        lags = {door.name: mine for door in self._doors}
        for door in self._doors:
            held = door.oldest_pending()  # a stage with a queue of its own (alerting)
            if held is not None:
                lags[door.name] = max(mine, now - held)
        return lags

    def _watch_lag(self, oldest: float | None = None) -> None:
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

    def idle(self) -> bool:
        """Nothing queued here nor in any stage's own queue (for benchmarks and tests)."""
        return self._queue.empty() and all(d.queued() == 0 for d in self._doors)

    def caught_up(self, position: int) -> bool:
        """Whether every stage has evaluated up to `position` (for benchmarks and tests)."""
        return self._last >= position and all(d.oldest_pending() is None for d in self._doors)

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


def _spans(lookback: Mapping[str, float]) -> str:
    return ", ".join(f"{table} {span / 60:.0f} min" for table, span in sorted(lookback.items()))
