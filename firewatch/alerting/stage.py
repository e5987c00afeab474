"""The alerting stage as the engine runs it.

`AlertStage.take` is its one door: what one stored batch gave — its records, the rules'
evidence, the risk scores — with the batch's position, decided as one group with the alerting
watermark (the engine's `firewatch.doors.AlertingDoor`); without a position, input by input
(tests, a bench baseline). `consume` is the same door as an `ingest.stream.Consumer`. They only
queue: the evaluation thread is never held up by alerting's database work. `run` (one thread)
processes what is queued, ticks the clock-driven decisions, publishes device commands, and asks
the cases stage to open an incident case for each confirmed alert. Tests drive the same steps
with `drain()` and `tick()`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final, Protocol

import psycopg

from firewatch.alerting import actuate, metrics, process, store
from firewatch.alerting.actuate import Command, Publisher
from firewatch.alerting.directory import fingerprint, load_directory
from firewatch.alerting.errors import CommandPublishError
from firewatch.alerting.intake import Ignored, RiskLike, from_batch, from_evidence, from_risk
from firewatch.alerting.process import Env, Outcome
from firewatch.alerting.records import CommandAnswer, DeviceMark, Signal
from firewatch.alerting.settings import AlertSettings
from firewatch.ingest import positions
from firewatch.ingest.stream import Batch
from firewatch.kernel.clock import Clock
from firewatch.rules.evidence import Evidence

log = logging.getLogger("firewatch.alerting")

Connect = Callable[[], psycopg.Connection]
Input = Signal | DeviceMark | CommandAnswer
STAGE: Final = "alerting"


@dataclass(frozen=True, slots=True)
class Group:
    """Everything one stored batch gives alerting: processed in one transaction, with the
    stage's watermark, so that a crash anywhere in it redoes all of it and none twice."""

    position: int
    partition: str
    inputs: tuple[Input, ...]
    since: float | None = None  # monotonic: when ingest stored the batch (for the lag)


class Supervision(Protocol):
    """What the engine's supervisor offers a stage (firewatch.evaluation.Supervisor fits)."""

    retries: int

    def backoff_s(self, attempt: int) -> float: ...

    def check_fault(self, stage: str, subjects: Iterable[str]) -> None:
        """The test-only fault hook: raises when the engine was started to fail here."""
        ...

    def failed(self, stage: str, position: int, exc: BaseException) -> None: ...

    def quarantined(self, stage: str, position: int, attempts: int, error: str) -> None: ...

    def recovered(self, stage: str) -> None: ...


class HasCaseId(Protocol):
    @property
    def case_id(self) -> str: ...


class IncidentSink(Protocol):
    """The cases stage's entry for confirmed alerts (cases.consumer.CaseIntake fits)."""

    def open_incident(
        self, alert_id: str, venue_id: str, at: datetime, summary: str, sensed: frozenset[str]
    ) -> HasCaseId: ...


class AlertStage:
    def __init__(self, connect: Connect, clock: Clock, settings: AlertSettings, *,
                 publisher: Publisher | None = None, incidents: IncidentSink | None = None,
                 on_queued: Callable[[], None] | None = None, tick_s: float = 0.5,
                 directory_refresh_s: float = 10.0,
                 supervision: Supervision | None = None) -> None:  # fmt: skip
        self._connect = connect
        self._clock = clock
        self.settings = settings
        self._publisher = publisher
        self._incidents = incidents
        self.on_queued = on_queued or (lambda: None)  # after notifications were queued
        self._tick_s = tick_s
        self._refresh_s = directory_refresh_s
        self._supervision = supervision
        self._unmarked: tuple[str, int] | None = None  # an empty group's watermark, unstored
        self._marked_at = 0.0
        self._inputs: deque[Input | Group] = deque()
        self._wake = threading.Condition()
        self._conn: psycopg.Connection | None = None
        self._env: Env | None = None
        self._loaded_at = -1e18
        self._fingerprint: tuple[object, ...] = ()

    # -- inputs (any thread, never blocking) ------------------------------------------------

    def _queue(self, items: Iterable[Input | Group]) -> None:
        items = list(items)
        if items:
            with self._wake:
                self._inputs.extend(items)
                metrics.QUEUE.set(len(self._inputs))
                self._wake.notify()

    def take(
        self,
        batch: Batch | None = None,
        evidence: Iterable[Evidence] = (),
        scores: Iterable[RiskLike] = (),
        *,
        position: int | None = None,
        partition: str = "",
        since: float | None = None,
    ) -> None:
        """What one stored batch gave: with its `position`, one group (see `Group`) decided in
        one transaction with the watermark; without, each input on its own."""
        inputs: list[Input] = [
            s for s in map(from_evidence, evidence) if not isinstance(s, Ignored)
        ]
        inputs += [s for s in map(from_risk, scores) if not isinstance(s, Ignored)]
        if batch is not None:
            inputs += self._from_batch(batch)
        if position is None:
            self._queue(inputs)
        else:
            self._queue([Group(position, partition, tuple(inputs), since)])

    def consume(self, batch: Batch) -> None:
        """The door as an `ingest.stream.Consumer`: a batch's records, input by input."""
        self.take(batch)

    def pending(self) -> int:
        """Inputs and groups waiting to be processed."""
        with self._wake:
            return len(self._inputs)

    def oldest_pending(self) -> float | None:
        """When (monotonic) the oldest batch still waiting here was stored (None: none)."""
        with self._wake:
            for item in self._inputs:
                if isinstance(item, Group) and item.since is not None:
                    return item.since
        return None

    def _from_batch(self, batch: Batch) -> list[Input]:
        s = self.settings
        found = from_batch(batch, alarms=s.device_alarms, troubles=s.device_troubles)
        return [*found.signals, *found.marks, *found.answers] if found else []

    # -- processing -----------------------------------------------------------------------------

    def _db(self) -> psycopg.Connection:
        if self._conn is None or self._conn.closed:
            self._conn = self._connect()
            self._conn.autocommit = True
        return self._conn

    def env(self, *, reload: bool = False) -> Env:
        """Settings and the registry directory, reloaded when the registry changed (looked at
        every `directory_refresh_s`, or now with `reload`)."""
        now = self._clock.monotonic()
        if self._env is None or reload or now - self._loaded_at >= self._refresh_s:
            self._loaded_at = now
            mark = fingerprint(self._db())
            if self._env is None or mark != self._fingerprint:
                self._env = Env(self.settings, load_directory(self._db()))
                self._fingerprint = mark
        return self._env

    def _one(self, item: Input) -> Outcome | None:
        if self._supervision is not None:
            self._supervision.check_fault(STAGE, _subjects(item))
        conn, now, env = self._db(), self._clock.now(), self.env()
        if isinstance(item, CommandAnswer):
            alert_id = actuate.record_answer(conn, item, now)
            metrics.COMMANDS.labels("answered" if alert_id else "unknown_answer").inc()
            return None
        if env.directory.venue(item.venue_id) is None:
            env = self.env(reload=True)  # a venue registered since the last look?
        if isinstance(item, DeviceMark):
            return process.take_mark(conn, item, now, env)
        outcome = process.take_signal(conn, item, now, env)
        if outcome.ignored:
            log.warning("signal %s of %s ignored: %s", item.name, item.venue_id, outcome.ignored)
        return outcome

    def drain(self) -> list[Outcome]:
        """Process what is queued now, in order; an input is only dropped once it is done.

        What arrives meanwhile waits for the next round, so that under a steady stream `run`
        still ticks: verification periods, reminders and escalation are never starved."""
        out: list[Outcome] = []
        with self._wake:
            budget = len(self._inputs)
        for _ in range(budget):
            with self._wake:
                item = self._inputs[0]
            if isinstance(item, Group):
                out += self._group(item)  # a database outage raises: the group stays first
            else:
                try:
                    outcome = self._one(item)
                except psycopg.OperationalError:
                    raise  # the database is away: the input stays first in line
                except Exception:  # one bad input must not stop the ones behind it
                    log.exception("alerting could not take %r; it is dropped", item)
                    outcome = None
                if outcome is not None:
                    out.append(outcome)
            with self._wake:
                self._inputs.popleft()
                metrics.QUEUE.set(len(self._inputs))
        self._after(out)
        self._store_mark(force=not self._inputs)
        return out

    def _store_mark(self, *, force: bool) -> None:
        if self._unmarked is None:
            return
        if not force and self._clock.monotonic() - self._marked_at < 1.0:
            return
        partition, position = self._unmarked
        positions.advance(self._db(), STAGE, partition, position, self._clock.now())
        self._unmarked = None
        self._marked_at = self._clock.monotonic()

    def _group(self, group: Group) -> list[Outcome]:
        """A stored batch's inputs and the watermark in one transaction. When it raises it is
        retried with backoff; the last try takes the inputs one by one (each in a savepoint),
        keeps each that still fails in quarantine, and commits the rest with the watermark."""
        if not group.inputs:
            # Nothing to decide: the watermark moves in memory, stored within a second.
            self._unmarked = (group.partition, group.position)
            return []
        sup = self._supervision
        retries = sup.retries if sup is not None else 0
        for attempt in range(1, retries + 2):
            try:
                return self._group_once(group, isolate=attempt > retries, attempts=attempt)
            except psycopg.OperationalError:
                raise
            except Exception as exc:
                log.exception("alerting failed on batch %d (attempt %d)", group.position, attempt)
                if sup is None:
                    raise
                sup.failed(STAGE, group.position, exc)
                time.sleep(sup.backoff_s(attempt))
        raise AssertionError("unreachable: the last try isolates every input")

    def _group_once(self, group: Group, *, isolate: bool, attempts: int) -> list[Outcome]:
        conn = self._db()
        out: list[Outcome] = []
        kept: list[str] = []
        with conn.transaction():
            for item in group.inputs:
                if not isolate:
                    outcome = self._one(item)
                else:
                    try:
                        with conn.transaction():
                            outcome = self._one(item)
                    except psycopg.OperationalError:
                        raise
                    except Exception as exc:
                        error = f"{type(exc).__name__}: {exc}"
                        at = self._clock.now()
                        positions.quarantine(
                            conn, STAGE, group.partition, group.position, attempts=attempts,
                            error=error, now=at, item=repr(item),
                        )  # fmt: skip
                        kept.append(error)
                        continue
                if outcome is not None:
                    out.append(outcome)
            positions.advance(conn, STAGE, group.partition, group.position, self._clock.now())
        self._unmarked = None
        if self._supervision is not None:
            if kept:
                self._supervision.failed(STAGE, group.position, RuntimeError(kept[0]))
                self._supervision.quarantined(STAGE, group.position, attempts, kept[0])
            else:
                self._supervision.recovered(STAGE)
        return out

    def tick(self) -> list[Outcome]:
        """Whatever time alone changes now: verification periods, escalation, reminders."""
        out = process.tick(self._db(), self._clock.now(), self.env())
        self._after(out, retry=True)
        return out

    def next_due(self) -> datetime | None:
        """When a tick will next change something (for tests on a manual clock)."""
        return store.next_due(self._db())

    def _after(self, outcomes: Sequence[Outcome], *, retry: bool = False) -> None:
        if any(o.notifications for o in outcomes):
            self.on_queued()
        commands = [c for o in outcomes for c in o.commands]
        if retry:
            commands += [c for c in actuate.unpublished(self._db()) if c not in commands]
        self._publish(commands)
        if self._incidents is not None and (retry or any(o.reason for o in outcomes)):
            self._open_incidents()

    def _publish(self, commands: Sequence[Command]) -> None:
        if self._publisher is None:
            return
        for c in commands:
            try:
                self._publisher.publish(c.topic, c.payload())
            except CommandPublishError as exc:
                metrics.COMMANDS.labels("publish_failed").inc()
                log.warning("command %s not published, will retry: %s", c.command_id, exc)
                continue
            actuate.mark_published(self._db(), c.command_id, self._clock.now())
            metrics.COMMANDS.labels("published").inc()

    def _open_incidents(self) -> None:
        assert self._incidents is not None
        since = self._clock.now() - timedelta(days=1)
        rows = (
            self._db()
            .execute(
                "SELECT alert_id, venue_id, confirmed_at, summary, criteria FROM alert"
                " WHERE kind = 'fire'"
                " AND confirmed_at > %s AND case_id IS NULL",
                (since,),
            )
            .fetchall()
        )
        for alert_id, venue_id, at, summary, criteria in rows:
            sensed = frozenset(criteria) if isinstance(criteria, dict) else frozenset()
            try:
                opened = self._incidents.open_incident(alert_id, venue_id, at, summary, sensed)
            except Exception:  # the cases stage's failure must not stop alerting
                log.exception("incident case for alert %s not opened, will retry", alert_id)
                continue
            self._db().execute(
                "UPDATE alert SET case_id = %s WHERE alert_id = %s", (opened.case_id, alert_id)
            )

    def run(self, stop: threading.Event) -> None:
        """Until `stop`: process inputs as they come, tick every `tick_s`."""
        next_tick = 0.0
        while not stop.is_set():
            with self._wake:
                if not self._inputs:
                    self._wake.wait(self._tick_s)
            try:
                self.drain()
                if self._clock.monotonic() >= next_tick:
                    self.tick()
                    next_tick = self._clock.monotonic() + self._tick_s
            except psycopg.OperationalError as exc:
                log.warning("alerting database unreachable, will retry: %s", exc)
                self.close()
                stop.wait(1.0)
            except Exception:  # alerting must outlive any one fault: log it, go on
                log.exception("alerting round failed, will retry")
                stop.wait(1.0)

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def _subjects(item: Input) -> list[str]:
    """The devices and venue an input is about (what the fault hook matches on)."""
    ids = list(getattr(item, "device_ids", ()) or ())
    for name in ("device_id", "venue_id"):
        value = getattr(item, name, None)
        if isinstance(value, str):
            ids.append(value)
    return ids
