"""Hot reload: a changed rules directory is loaded and handed to the running engine; a library
with any problem is refused, each problem logged with file, line and reason, and the rules in
force stay. The directory is polled (file names, modification times, sizes): no inotify, so it
works the same on every filesystem and in tests with a manual clock.

>>> from firewatch.kernel.clock import ManualClock
>>> from datetime import UTC, datetime
>>> from zoneinfo import ZoneInfo
>>> from firewatch.rules.loader import DEFAULT_DIR, load_library
>>> engine = RuleEngine(load_library(DEFAULT_DIR), zone=ZoneInfo("Asia/Shanghai"))
>>> watcher = RulesWatcher(DEFAULT_DIR, engine, ManualClock(datetime(2026, 5, 1, tzinfo=UTC)))
>>> watcher.check()
<Reload.UNCHANGED: 'unchanged'>
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from types import TracebackType

from firewatch.kernel.clock import Clock
from firewatch.rules import metrics
from firewatch.rules.engine import RuleEngine
from firewatch.rules.errors import RuleLibraryError
from firewatch.rules.loader import fingerprint, load_library

log = logging.getLogger("firewatch.rules")


class Reload(StrEnum):
    UNCHANGED = "unchanged"  # no rule file changed since the last look
    RELOADED = "reloaded"  # the changed library is valid and handed to the engine
    REFUSED = "refused"  # the changed library has problems: the running rules stay


def decide(
    before: tuple[object, ...], now: tuple[object, ...], problems: RuleLibraryError | None
) -> Reload:
    """Whether a poll reloads: nothing changed, a valid change, or a change refused."""
    if before == now:
        return Reload.UNCHANGED
    return Reload.REFUSED if problems is not None else Reload.RELOADED


@dataclass(frozen=True, slots=True)
class ReloadRecord:
    at: datetime
    outcome: Reload
    rules: int
    detail: str


class RulesWatcher:
    def __init__(
        self,
        directory: Path,
        engine: RuleEngine,
        clock: Clock,
        *,
        interval_s: float = 2.0,
        also: Callable[[], object] | None = None,
    ) -> None:
        self.directory = directory
        self._engine = engine
        self._clock = clock
        self._interval_s = interval_s
        self._also = also
        self._seen = fingerprint(directory)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rules-watch", daemon=True)
        self.history: list[ReloadRecord] = []
        self.last_error: RuleLibraryError | None = None

    def check(self) -> Reload:
        """One poll: reload if the directory changed; refuse a library with problems."""
        now = fingerprint(self.directory)
        problems: RuleLibraryError | None = None
        library = None
        if now != self._seen:
            try:
                library = load_library(self.directory)
            except RuleLibraryError as exc:
                problems = exc
        outcome = decide(self._seen, now, problems)
        self._seen = now
        if outcome is Reload.UNCHANGED:
            return outcome
        metrics.RELOADS.labels(outcome=outcome.value).inc()
        if library is not None:
            self._engine.replace(library)
            self.last_error = None
            detail = f"{len(library.rules)} rules from {self.directory}"
            log.info("rules reloaded: %s", detail)
        else:
            self.last_error = problems
            detail = str(problems)
            log.error("rules in %s refused, the rules in force stay:\n%s", self.directory, detail)
        count = len(library.rules) if library is not None else len(self._engine.library.rules)
        self.history.append(ReloadRecord(self._clock.now(), outcome, count, detail))
        return outcome

    def _run(self) -> None:
        while not self._stop.wait(self._interval_s):
            try:
                self.check()
                if self._also is not None:
                    self._also()
            except Exception:
                log.exception("the rules watcher failed a poll; it keeps polling")

    def __enter__(self) -> RulesWatcher:
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        self._thread.join(10)
