"""The rules stage as `firewatch run` wires it: the library, the engine (an ingest consumer),
the evidence writer, and one background thread that hot-reloads the rules directory and
follows registry changes (venue types, heartbeats).

    with RulesStage(connect, clock, zone) as rules:
        pipeline = IngestPipeline(..., consumers=[rules.engine])

A library with problems at start-up raises `RuleLibraryError` (file, line, reason): the engine does
not start on rules nobody can read. Later, a bad edit is refused and the running rules stay.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from contextlib import ExitStack
from pathlib import Path
from types import TracebackType
from zoneinfo import ZoneInfo

import psycopg

from firewatch.kernel.clock import Clock
from firewatch.rules.directory import Directory
from firewatch.rules.engine import RuleEngine, Sink
from firewatch.rules.loader import DEFAULT_DIR, load_library
from firewatch.rules.store import Connect, EvidenceWriter
from firewatch.rules.watch import RulesWatcher

log = logging.getLogger("firewatch.rules")


class RulesStage:
    def __init__(
        self,
        connect: Connect,
        clock: Clock,
        zone: ZoneInfo,
        *,
        directory: Path = DEFAULT_DIR,
        reload_s: float = 2.0,
        registry_refresh_s: float = 30.0,
        sinks: Iterable[Sink] = (),
        store_evidence: bool = True,
    ) -> None:
        """`store_evidence`: the stage's own writer stores what `consume` finds (False where
        the caller stores evidence itself: the engine, with its watermark)."""
        self._connect = connect
        self._clock = clock
        self._zone = zone
        self._path = directory
        self._reload_s = reload_s
        self._refresh_s = registry_refresh_s
        self._sinks = list(sinks)
        self._store = store_evidence
        self._stack = ExitStack()
        self._registry_conn: psycopg.Connection | None = None
        self._next_refresh = 0.0
        self.directory = Directory()
        self.engine: RuleEngine | None = None
        self.writer: EvidenceWriter | None = None
        self.watcher: RulesWatcher | None = None

    def __enter__(self) -> RulesStage:
        library = load_library(self._path)
        self._refresh_registry()
        try:
            sinks = list(self._sinks)
            if self._store:
                self.writer = self._stack.enter_context(EvidenceWriter(self._connect, self._clock))
                sinks.insert(0, self.writer)
            self.engine = RuleEngine(library, zone=self._zone, directory=self.directory,
                                     sinks=sinks)  # fmt: skip
            self.watcher = self._stack.enter_context(
                RulesWatcher(
                    self._path,
                    self.engine,
                    self._clock,
                    interval_s=self._reload_s,
                    also=self._refresh_registry,
                )
            )
        except BaseException:
            self._stack.close()
            raise
        log.info("rules stage: %d rules from %s", len(library.rules), self._path)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stack.close()  # the watcher stops first, then the writer drains
        if self._registry_conn is not None:
            self._registry_conn.close()

    def _refresh_registry(self) -> None:
        now = self._clock.monotonic()
        if now < self._next_refresh:
            return
        self._next_refresh = now + self._refresh_s
        try:
            if self._registry_conn is None or self._registry_conn.closed:
                self._registry_conn = self._connect()
            self.directory.refresh(self._registry_conn)
            self._registry_conn.commit()
        except psycopg.OperationalError as exc:
            log.warning("rules: registry not refreshed, database unreachable: %s", exc)
            self._registry_conn = None
