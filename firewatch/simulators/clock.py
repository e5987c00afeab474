"""Simulated time: real-time or accelerated replay, and an instant clock for tests.

A scenario is written in simulated time. Playing it, the player asks the clock to wait until each
message's time; the clock turns simulated seconds into real ones. At speed 60 an hour of traffic
takes a minute, and the device timestamps inside it are the accelerated clock's: they run 60
times faster than the wall clock, from `sim_start`. The real time comes from a passed-in
`kernel.clock.Clock`; only the composition root makes a `SystemClock`.

>>> from datetime import UTC, datetime
>>> from firewatch.kernel.clock import ManualClock
>>> real = ManualClock(datetime(2026, 1, 1, tzinfo=UTC))
>>> sim = AcceleratedClock(real, speed=60, sim_start=datetime(2026, 1, 1, 22, tzinfo=UTC))
>>> _ = real.advance(30)
>>> sim.now().isoformat()
'2026-01-01T22:30:00+00:00'
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Protocol

from firewatch.kernel.clock import Clock


class SimClock(Protocol):
    def now(self) -> datetime:
        """The current simulated time, timezone-aware."""
        ...

    def sleep_until(self, when: datetime) -> None:
        """Return once the simulated time has reached `when` (at once if it has)."""
        ...


class AcceleratedClock:
    """Simulated time running `speed` times as fast as `real` (speed 1: real time)."""

    def __init__(
        self,
        real: Clock,
        *,
        speed: float,
        sim_start: datetime,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not speed > 0 or math.isinf(speed):
            raise ValueError(f"AcceleratedClock: speed must be a positive number, got {speed}")
        if sim_start.tzinfo is None:
            raise ValueError("AcceleratedClock: sim_start must be timezone-aware")
        self.speed = speed
        self._real = real
        self._sleep = sleep
        self._sim_start = sim_start
        # Monotonic, so that a wall-clock step (NTP) does not make the replay jump.
        self._real_start = real.monotonic()

    def now(self) -> datetime:
        elapsed = (self._real.monotonic() - self._real_start) * self.speed
        return self._sim_start + timedelta(seconds=elapsed)

    def sleep_until(self, when: datetime) -> None:
        ahead = (when - self.now()).total_seconds()
        if ahead > 0:
            self._sleep(ahead / self.speed)


class InstantClock:
    """As fast as possible: time jumps to each message's moment; for tests and dry runs."""

    def __init__(self, start: datetime) -> None:
        self._now = start

    def now(self) -> datetime:
        return self._now

    def sleep_until(self, when: datetime) -> None:
        self._now = max(self._now, when)
