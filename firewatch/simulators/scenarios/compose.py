"""Several scenarios on one timeline: distinct venues, staggered starts, night ones at night.

With `keep_alive`, every device of the run also lives outside its scenario, as a registered
device does in the field: it announces itself at the run's start and sends its heartbeat until
`keep_alive`, except after a Last Will that was its last word. Without it, a device exists only
while its scenario lasts, and an engine watching a whole day would rightly call it offline.

>>> from datetime import UTC, datetime, timedelta
>>> from firewatch.simulators.subdistrict import generate
>>> t0 = datetime(2026, 5, 1, tzinfo=UTC)
>>> run = compose(["flaming_fire"], generate(1), seed=1, start=t0)
>>> run.truths[0].expected, len(run.messages) > 20
(<Outcome.ALARM: 'alarm'>, True)
>>> alive = compose(["flaming_fire"], generate(1), seed=1, start=t0,
...                 keep_alive=t0 + timedelta(hours=2))
>>> set(run.messages) < set(alive.messages), alive.messages[-1].topic.endswith("/status")
(True, True)
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final, TypeVar
from zoneinfo import ZoneInfo

from firewatch.kernel.registry import Device
from firewatch.simulators.devices import (
    ChargingStation,
    GasDetector,
    LiftCamera,
    LoadDetector,
    PresenceSensor,
    SmokeDetector,
)
from firewatch.simulators.devices.base import Device as SimDevice
from firewatch.simulators.records import GroundTruth, Message, Script
from firewatch.simulators.scenarios.context import Catalogue, Context
from firewatch.simulators.scenarios.library import LIBRARY
from firewatch.simulators.subdistrict import Subdistrict

STAGGER_S: Final = 60.0  # daytime scenarios start a minute apart, so incidents overlap
ALL: Final = "all"
SHANGHAI: Final = ZoneInfo("Asia/Shanghai")
_D = TypeVar("_D", bound=SimDevice)


@dataclass(frozen=True, slots=True)
class Run:
    """A run's traffic in publication order, and the ground truth of each of its scenarios."""

    messages: tuple[Message, ...]
    truths: tuple[GroundTruth, ...]

    @property
    def start(self) -> datetime:
        return min(t.start for t in self.truths)

    @property
    def end(self) -> datetime:
        return max([t.end for t in self.truths] + [m.at for m in self.messages[-1:]])


def resolve(name: str) -> list[str]:
    """The scenario names `name` stands for: itself, or every one for `all`."""
    if name == ALL:
        return list(LIBRARY)
    if name not in LIBRARY:
        raise LookupError(f"no scenario {name!r}: expected all or one of {', '.join(LIBRARY)}")
    return [name]


def compose(
    names: Sequence[str],
    world: Subdistrict,
    *,
    seed: int,
    start: datetime,
    zone: ZoneInfo = SHANGHAI,
    keep_alive: datetime | None = None,
) -> Run:
    """The scenarios `names` from `start` (aware); the same arguments give the same bytes.
    `keep_alive`: the devices also heartbeat from `start` to then (see the module's doc)."""
    if start.tzinfo is None:
        raise ValueError("compose: start must be timezone-aware")
    catalogue = Catalogue(world)
    taken: set[str] = set()
    scripts = []
    alive: list[Message] = []
    for index, name in enumerate(names):
        spec = LIBRARY[name]
        begin = start + timedelta(seconds=index * STAGGER_S)
        ctx = _Recording(catalogue, seed=seed, name=name, start=begin, taken=taken, zone=zone)
        if spec.local_start is not None:
            ctx.start = ctx.local(start, *spec.local_start)
        script = spec.build(ctx)
        scripts.append(script)
        if keep_alive is not None:
            alive.extend(_kept_alive(ctx, script, start, keep_alive))
    # A stable sort: messages of the same moment keep their scenario's order.
    messages = sorted([*(m for s in scripts for m in s.messages), *alive], key=lambda m: m.at)
    return Run(tuple(messages), tuple(s.truth for s in scripts))


class _Recording(Context):
    """A context that remembers every device it made, and a pristine copy of each (its own
    generator state included), for the heartbeats outside the scenario."""

    def __init__(self, catalogue: Catalogue, **kwargs: Any) -> None:
        super().__init__(catalogue, **kwargs)
        self.made: list[tuple[SimDevice, SimDevice]] = []

    def _keep(self, device: _D) -> _D:
        self.made.append((device, copy.deepcopy(device)))
        return device

    def smoke(self, device: Device, *, battery: bool | None = None) -> SmokeDetector:
        return self._keep(super().smoke(device, battery=battery))

    def station(self, device: Device) -> ChargingStation:
        return self._keep(super().station(device))

    def meter(self, device: Device) -> LoadDetector:
        return self._keep(super().meter(device))

    def camera(self, device: Device) -> LiftCamera:
        return self._keep(super().camera(device))

    def presence(self, device: Device) -> PresenceSensor:
        return self._keep(super().presence(device))

    def gas(self, device: Device) -> GasDetector:
        return self._keep(super().gas(device))


def _kept_alive(ctx: _Recording, script: Script, start: datetime, until: datetime) -> list[Message]:
    """Heartbeats before the scenario (from the pristine copy: the scenario's own `online` then
    reads as the device reconnecting) and after it (the device itself, its counter going on)."""
    out: list[Message] = []
    for device, pristine in ctx.made:
        own = [m for m in script.messages if m.topic.split("/")[3] == device.device_id]
        period = timedelta(seconds=device.profile.heartbeat_s)
        first = min((m.at for m in own), default=script.truth.start)
        if start < first:
            out.append(pristine.online(start))
            at = start + timedelta(seconds=pristine.rng.uniform(5.0, device.profile.heartbeat_s))
            while at < first:
                out.append(pristine.status(at))
                at += period
        if own and own[-1].will:
            continue  # it died in its scenario and stays dead
        at = max((m.at for m in own), default=script.truth.end) + period
        while at <= until:
            out.append(device.status(at))
            at += period
    return out
