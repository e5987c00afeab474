"""Time, passed in: stages take a `Clock` instead of reading the wall clock (STYLE.md section 2).

>>> clock = ManualClock(datetime(2026, 11, 29, 8, 0, tzinfo=UTC))
>>> clock.advance(90).isoformat()
'2026-11-29T08:01:30+00:00'
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware."""
        ...

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back, for timeouts and batch ages."""
        ...


class SystemClock:
    """The real clock; only the composition root creates one."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()


class ManualClock:
    """A clock that moves only when told, for deterministic tests, replays and back-tests."""

    def __init__(self, start: datetime) -> None:
        self._now = start
        self._mono = 0.0

    def now(self) -> datetime:
        return self._now

    def monotonic(self) -> float:
        return self._mono

    def advance(self, seconds: float) -> datetime:
        self._now += timedelta(seconds=seconds)
        self._mono += seconds
        return self._now


class ScaledClock:
    """Wall time running `speed` times faster from `start`, for the demo's scripted day:
    the simulators' device timestamps and the engine's clock then agree. `monotonic` stays
    real, so batch ages, retries and time-outs behave as they do in production."""

    def __init__(self, real: Clock, speed: float, start: datetime) -> None:
        self._real = real
        self._speed = speed
        self._start = start
        self._origin = real.monotonic()

    def now(self) -> datetime:
        return self._start + timedelta(
            seconds=(self._real.monotonic() - self._origin) * self._speed
        )

    def monotonic(self) -> float:
        return self._real.monotonic()
