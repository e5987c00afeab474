"""A tiny discrete-event scheduler: every device's readings, heartbeats and actions in time order.

Devices number their messages as they send them, so their steps must run in time order across
all the loops of a scenario (a heartbeat between two readings gets the `seq` between theirs).
The timeline pops steps from a heap by time; ties keep the order they were scheduled in.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from firewatch.kernel.kinds import EVENTS
from firewatch.simulators import curves
from firewatch.simulators.devices.base import Device
from firewatch.simulators.devices.gas import GasDetector
from firewatch.simulators.devices.smoke import SmokeDetector, SmokeSample
from firewatch.simulators.records import Message

Step = Callable[[datetime], Iterable[Message]]
Loop = Callable[[datetime], tuple[Iterable[Message], datetime | None]]
Air = Callable[[datetime], SmokeSample]
Gas = Callable[[datetime], float]  # the true % LEL at a gas detector


class Timeline:
    def __init__(self, start: datetime, end: datetime) -> None:
        self.start = start
        self.end = end
        self._heap: list[tuple[datetime, int, Loop, datetime]] = []
        self._order = 0

    def loop(self, first: datetime, step: Loop, *, until: datetime | None = None) -> None:
        """Run `step` at `first`, then whenever it says next, up to `until` (default: the end)."""
        last = min(until, self.end) if until is not None else self.end
        if first <= last:
            heapq.heappush(self._heap, (first, self._order, step, last))
            self._order += 1

    def once(self, when: datetime, step: Step) -> None:
        self.loop(when, lambda now: (step(now), None))

    def every(
        self, first: datetime, period_s: float, step: Step, *, until: datetime | None = None
    ) -> None:
        period = timedelta(seconds=period_s)
        self.loop(first, lambda now: (step(now), now + period), until=until)

    def run(self) -> tuple[Message, ...]:
        out: list[Message] = []
        while self._heap:
            when, _, step, last = heapq.heappop(self._heap)
            messages, after = step(when)
            out.extend(messages)
            if after is not None and after <= last:
                heapq.heappush(self._heap, (after, self._order, step, last))
                self._order += 1
        return tuple(out)


def heartbeat(tl: Timeline, device: Device, *, until: datetime | None = None) -> None:
    """Status every registered heartbeat from a random phase; kinds that can say so (smoke, gas)
    check the battery."""
    first = tl.start + timedelta(seconds=device.rng.uniform(5.0, device.profile.heartbeat_s))
    warns = "low_battery" in EVENTS[device.kind]

    def beat(now: datetime) -> list[Message]:
        out = [device.status(now)]
        if warns:
            out.extend(device.check_battery(now))
        return out

    tl.every(first, device.profile.heartbeat_s, beat, until=until)


def announce(tl: Timeline, device: Device) -> None:
    """The retained `online` a device publishes when it connects, at the scenario's start."""
    tl.once(tl.start, lambda now: [device.online(now)])


def watch(tl: Timeline, det: SmokeDetector, air: Air, *, until: datetime | None = None) -> None:
    """A smoke detector for the whole scenario: online, readings at its own pace, heartbeats."""
    announce(tl, det)
    first = tl.start + timedelta(seconds=det.rng.uniform(1.0, det.quiet_s))
    tl.loop(first, lambda now: (det.observe(now, air(now)), det.next_at(now)), until=until)
    heartbeat(tl, det, until=until)


def watch_gas(tl: Timeline, det: GasDetector, gas: Gas, *, until: datetime | None = None) -> None:
    """A gas detector for the whole scenario: online, a sample every second (readings at its
    own pace, alarms at once), heartbeats."""
    announce(tl, det)
    first = tl.start + timedelta(seconds=det.rng.uniform(1.0, curves.GAS_QUIET_S))
    tl.loop(first, lambda now: (det.observe(now, gas(now)), det.next_at(now)), until=until)
    heartbeat(tl, det, until=until)


def seconds(since: datetime, now: datetime) -> float:
    return (now - since).total_seconds()
