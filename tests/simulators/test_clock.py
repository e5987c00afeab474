"""Accelerated and instant simulated clocks, driven by a manual real clock."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest

from firewatch.kernel.clock import ManualClock
from firewatch.simulators.clock import AcceleratedClock, InstantClock

T0 = datetime(2026, 5, 1, 2, 0, tzinfo=UTC)


def test_accelerated_time_runs_speed_times_faster_and_sleeps_the_real_share() -> None:
    real = ManualClock(T0)
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        real.advance(seconds)

    sim = AcceleratedClock(real, speed=60, sim_start=T0, sleep=sleep)
    sim.sleep_until(T0 + timedelta(minutes=30))  # half an hour of simulated time
    assert slept == [pytest.approx(30.0)]
    assert sim.now() == T0 + timedelta(minutes=30)
    sim.sleep_until(T0 + timedelta(minutes=10))  # already past: no wait
    assert len(slept) == 1


def test_real_time_is_speed_one() -> None:
    real = ManualClock(T0)
    sim = AcceleratedClock(real, speed=1, sim_start=T0 + timedelta(hours=1))
    real.advance(12.5)
    assert sim.now() == T0 + timedelta(hours=1, seconds=12.5)


@pytest.mark.parametrize("speed", [0.0, -2.0, math.inf, math.nan])
def test_a_speed_must_be_a_positive_number(speed: float) -> None:
    with pytest.raises(ValueError, match="speed"):
        AcceleratedClock(ManualClock(T0), speed=speed, sim_start=T0)


def test_instant_time_jumps_and_never_goes_back() -> None:
    clock = InstantClock(T0)
    clock.sleep_until(T0 + timedelta(hours=2))
    clock.sleep_until(T0 + timedelta(hours=1))
    assert clock.now() == T0 + timedelta(hours=2)
