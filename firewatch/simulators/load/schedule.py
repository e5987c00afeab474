"""How many messages should have been sent `t` seconds into a run: steady or bursty.

Bursty load keeps the mean rate: each period starts with a burst at `factor` times the mean,
and the rest of the period runs slower so that a whole period sends exactly mean x period.

>>> steady = Schedule(rate=1000.0)
>>> steady.due(0.5), steady.due(2.0)
(500, 2000)
>>> bursty = Schedule(rate=1000.0, burst=Burst(period_s=20.0, burst_s=5.0, factor=3.0))
>>> bursty.rate_at(1.0), round(bursty.rate_at(10.0), 1), bursty.due(5.0), bursty.due(20.0)
(3000.0, 333.3, 15000, 20000)
"""

from __future__ import annotations

from dataclasses import dataclass

from firewatch.simulators.errors import ScheduleError


@dataclass(frozen=True, slots=True)
class Burst:
    """`burst_s` seconds at `factor` x the mean rate at the start of every `period_s` seconds."""

    period_s: float = 20.0
    burst_s: float = 5.0
    factor: float = 3.0

    def __post_init__(self) -> None:
        if not 0 < self.burst_s < self.period_s:
            raise ScheduleError(
                f"burst of {self.burst_s} s must fit in a period of {self.period_s} s"
            )
        if not 1 <= self.factor * self.burst_s <= self.period_s:
            raise ScheduleError(
                f"a {self.factor}x burst of {self.burst_s} s sends more than a "
                f"{self.period_s} s period holds at the mean rate"
            )

    @property
    def quiet_factor(self) -> float:
        """The rate outside the burst, as a multiple of the mean."""
        return (self.period_s - self.factor * self.burst_s) / (self.period_s - self.burst_s)


@dataclass(frozen=True, slots=True)
class Schedule:
    rate: float
    burst: Burst | None = None

    def __post_init__(self) -> None:
        if not self.rate > 0:
            raise ScheduleError(f"rate must be above 0 messages/s, got {self.rate}")

    def rate_at(self, t: float) -> float:
        if self.burst is None:
            return self.rate
        in_burst = t % self.burst.period_s < self.burst.burst_s
        return self.rate * (self.burst.factor if in_burst else self.burst.quiet_factor)

    def due(self, t: float) -> int:
        """Messages that should have been sent by `t` seconds after the start."""
        if self.burst is None:
            return int(self.rate * t)
        b = self.burst
        periods, into = divmod(t, b.period_s)
        sent = periods * b.period_s
        if into < b.burst_s:
            sent += b.factor * into
        else:
            sent += b.factor * b.burst_s + b.quiet_factor * (into - b.burst_s)
        return int(self.rate * sent + 1e-9)
