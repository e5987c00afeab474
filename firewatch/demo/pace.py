"""The demo's pace: incidents at close to real time, the quiet hours fast-forwarded.

The engine judges time in seconds: an alarm must hold 30 s before it is a fire, a hush 20 s
after it must stop that, a station that does not answer in 90 s is escalated, a port must
answer its power-off command in 10 s. A message takes a few hundred milliseconds of wall time
through the broker, ingest's batching and alerting; at 600 times real speed that is minutes of
engine time, and every one of those windows lies. So the day runs on one `DayClock`, shared by
the engine and the simulators, at `Pace.incident` (10x: 0.3 s of latency is 3 s) around every
moment that matters and at `Pace.quiet` (600x) between them, where the nearest decision is
minutes or hours away (a device is offline after 3 heartbeats of 5-10 min, a case is due within
15 min to 1 h).

>>> from datetime import UTC, datetime
>>> from firewatch.kernel.clock import ManualClock
>>> t0 = datetime(2026, 5, 1, tzinfo=UTC)
>>> real = ManualClock(t0)
>>> clock = DayClock(real, t0, Pace(quiet=600, incident=10), [(at(t0, 600), at(t0, 660))])
>>> clock.start()
>>> _ = real.advance(1.0)
>>> clock.now().isoformat()  # quiet: 600 s in one second
'2026-05-01T00:10:00+00:00'
>>> _ = real.advance(1.0)
>>> clock.now().isoformat()  # the window: 10 s a second
'2026-05-01T00:10:10+00:00'
"""

from __future__ import annotations

import bisect
import json
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from firewatch.kernel.clock import Clock
from firewatch.simulators.records import Message, Outcome
from firewatch.simulators.scenarios.compose import Run

Window = tuple[datetime, datetime]

SMOKE_EVENTS: Final = frozenset({"alarm", "alarm_cleared", "silenced", "test", "tamper", "fault"})
CHARGING_EVENTS: Final = frozenset({"overtemp", "overcurrent", "short_circuit"})
LEAD_S: Final = 5.0  # slow down a little before a moment, so it is published at the slow pace
ALARM_S: Final = 45.0  # after an alarm starts: the verification period (30 s) and a tick
TAIL_S: Final = 15.0  # after anything else: its way through the engine, a port's answer
ONSET_S: Final = (45.0, 90.0)  # around a fire's onset: red evidence may come ahead of it
MAX_NAP_S: Final = 0.2  # a sleeper looks again this often, so a new slow window is not overrun


@dataclass(frozen=True, slots=True)
class Pace:
    quiet: float = 600.0
    incident: float = 10.0

    def __post_init__(self) -> None:
        if not (0 < self.incident <= self.quiet):
            raise ValueError(f"pace: expected 0 < incident ({self.incident:g}) <= quiet")


def at(start: datetime, seconds: float) -> datetime:
    return start + timedelta(seconds=seconds)


def moments(run: Run) -> list[Window]:
    """Where the engine decides in seconds: a detector's alarm starting or stopping, its
    events (hush, test, tamper...), a port's overheat or overcurrent, a Last Will, a venue
    scan, and a fire's onset."""
    out: list[Window] = []
    alarming: dict[str, bool] = {}
    for m in run.messages:
        tail = _sharp(m, alarming)
        if tail:
            out.append((at(m.at, -LEAD_S), at(m.at, tail)))
    for t in run.truths:
        if t.expected == Outcome.ALARM:
            out.append((at(t.onset, -ONSET_S[0]), at(t.onset, ONSET_S[1])))
    return merged(out)


def _sharp(m: Message, alarming: dict[str, bool]) -> float:
    """How long after `m` the engine's reaction to it is timed in seconds (0: not at all)."""
    parts = m.topic.split("/")  # fw/v1/{kind}/{id}/{type}
    if m.will or parts[2] == "venue":
        return TAIL_S
    if parts[4] not in ("reading", "event"):
        return 0.0
    body = json.loads(m.payload)
    if parts[2] == "smoke":
        was = alarming.get(parts[3], False)
        alarming[parts[3]] = now = body.get("event") == "alarm" or bool(body.get("alarm", was))
        if now and not was:
            return ALARM_S
        return TAIL_S if now != was or body.get("event") in SMOKE_EVENTS else 0.0
    return TAIL_S if parts[2] == "charging" and body.get("event") in CHARGING_EVENTS else 0.0


def merged(windows: Iterable[Window]) -> list[Window]:
    """Sorted, overlapping ones joined.

    >>> from datetime import UTC, datetime
    >>> t = datetime(2026, 5, 1, tzinfo=UTC)
    >>> [(a.minute, b.minute) for a, b in merged([(at(t, 60), at(t, 180)), (at(t, 0), at(t, 90)),
    ...                                           (at(t, 600), at(t, 660))])]
    [(0, 3), (10, 11)]
    """
    out: list[Window] = []
    for a, b in sorted(windows):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def wall_seconds(start: datetime, end: datetime, pace: Pace, windows: Sequence[Window]) -> float:
    """How long the day from `start` to `end` takes on the wall clock."""
    slow = sum(max(0.0, (min(b, end) - max(a, start)).total_seconds()) for a, b in merged(windows))
    total = (end - start).total_seconds()
    return slow / pace.incident + (total - slow) / pace.quiet


class DayClock:
    """The engine's `Clock` and the simulators' `SimClock` at once: simulated time that stands
    at `start` until `start()`, then runs at the pace of the moment. Engine time is a function
    of wall time alone, advanced under a lock, so every reader agrees and it never goes back.
    `monotonic` stays real: batch ages, retries and time-outs behave as in production."""

    def __init__(self, real: Clock, start: datetime, pace: Pace, windows: Sequence[Window],
                 sleep: Callable[[float], None] = time.sleep) -> None:  # fmt: skip
        self.pace = pace
        self._real = real
        self._sleep = sleep
        self._windows = merged(windows)
        self._lock = threading.Lock()
        self._at = start
        self._wall: float | None = None
        self._real_from: datetime | None = None

    def start(self) -> None:
        with self._lock:
            self._wall = self._real.monotonic()

    def monotonic(self) -> float:
        return self._real.monotonic()

    def now(self) -> datetime:
        with self._lock:
            return self._advance()

    def _advance(self) -> datetime:
        if self._wall is None:
            return self._at
        wall = self._real.monotonic()
        while True:
            speed, change = self._speed_at(self._at)
            then = at(self._at, (wall - self._wall) * speed)
            if change is None or then <= change:
                self._at, self._wall = then, wall
                return then
            self._wall += (change - self._at).total_seconds() / speed  # up to the change
            self._at = change

    def _speed_at(self, t: datetime) -> tuple[float, datetime | None]:
        """The speed at `t` and the next moment it may change (None: never)."""
        if self._real_from is not None and t >= self._real_from:
            return 1.0, None
        i = bisect.bisect_right(self._windows, (t, t))
        if i > 0 and self._windows[i - 1][1] > t:
            return self.pace.incident, self._windows[i - 1][1]
        if i < len(self._windows) and self._windows[i][0] == t:
            return self.pace.incident, self._windows[i][1]
        following = [self._windows[i][0]] if i < len(self._windows) else []
        return self.pace.quiet, min([*following, *([self._real_from] if self._real_from else [])],
                                    default=None)  # fmt: skip

    def slow_until(self, when: datetime) -> None:
        """Someone has something to do by `when`: the incident pace from now until then."""
        with self._lock:
            now = self._advance()
            if when > now:
                self._windows = merged([*self._windows, (now, when)])

    def real_time_from(self, when: datetime) -> None:
        """From `when` on (the day is over), real time."""
        with self._lock:
            self._advance()
            self._real_from = when

    def sleep_until(self, when: datetime) -> None:
        while True:
            now = self.now()
            ahead = (when - now).total_seconds()
            if ahead <= 0:
                return
            speed, _ = self._speed_at(now)
            self._sleep(min(ahead / speed, MAX_NAP_S))
