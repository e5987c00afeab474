"""What a scenario is given: the subdistrict, a seeded generator, its start, and a venue to use.

Scenarios only use registered venues and devices, so that everything they publish is accepted
by ingest. Each scenario gets its own generator seeded from (seed, scenario name), so adding a
scenario to the library does not change the traffic of the others.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, time, timedelta
from random import Random
from zoneinfo import ZoneInfo

from firewatch.kernel.contract import DeviceKind, VenueType
from firewatch.kernel.registry import Device, Venue
from firewatch.simulators import curves, naming
from firewatch.simulators.devices import (
    ChargingStation,
    GasDetector,
    LiftCamera,
    LoadDetector,
    PresenceSensor,
    SmokeDetector,
    SmokeSample,
    profile_for,
)
from firewatch.simulators.devices.base import Profile
from firewatch.simulators.records import GroundTruth, Message, Outcome, Script
from firewatch.simulators.subdistrict import Subdistrict


class Catalogue:
    """The subdistrict indexed for scenarios: venues by type, devices by venue and kind."""

    def __init__(self, world: Subdistrict) -> None:
        self.world = world
        self._devices: dict[tuple[str, DeviceKind], list[Device]] = {}
        for device in world.devices:
            self._devices.setdefault((device.venue_id, device.kind), []).append(device)

    def devices(self, venue_id: str, kind: DeviceKind) -> tuple[Device, ...]:
        return tuple(self._devices.get((venue_id, kind), ()))


class Context:
    def __init__(
        self,
        catalogue: Catalogue,
        *,
        seed: int,
        name: str,
        start: datetime,
        taken: set[str],
        zone: ZoneInfo,
    ) -> None:
        self.catalogue = catalogue
        self.name = name
        self.start = start
        self.zone = zone
        self.rng = Random(f"scenario:{seed}:{name}")  # noqa: S311 - seeded on purpose
        self._taken = taken  # venues other scenarios of the same run already use

    def at(self, seconds: float) -> datetime:
        return self.start + timedelta(seconds=seconds)

    def local(self, when: datetime, hour: int, minute: int = 0) -> datetime:
        """The first local `hour:minute` at or after `when` (night scenarios keep local hours)."""
        day = when.astimezone(self.zone)
        moment = datetime.combine(day.date(), time(hour, minute), self.zone).astimezone(UTC)
        # In UTC from here: arithmetic on zone-aware times would be wall-clock arithmetic.
        return moment if moment >= when else moment + timedelta(days=1)

    def venue(
        self,
        types: Sequence[VenueType],
        needs: Mapping[DeviceKind, int],
        fits: Callable[[Venue], bool] | None = None,
    ) -> Venue:
        """A venue of one of `types` with at least `needs` devices of each kind, not yet used
        (and, with `fits`, one it accepts)."""
        candidates = [
            v
            for v in self.catalogue.world.venues
            if v.venue_type in types
            and v.venue_id not in self._taken
            and all(len(self.catalogue.devices(v.venue_id, k)) >= n for k, n in needs.items())
            and (fits is None or fits(v))
        ]
        if not candidates:
            raise LookupError(f"scenario {self.name}: no free venue of {list(types)} with {needs}")
        venue = self.rng.choice(candidates)
        self._taken.add(venue.venue_id)
        return venue

    def devices(self, venue: Venue, kind: DeviceKind) -> tuple[Device, ...]:
        return self.catalogue.devices(venue.venue_id, kind)

    # -- the devices, as software ----------------------------------------------------------------

    def _make(self, device: Device, battery: bool | None) -> tuple[Profile, Random, datetime]:
        rng = Random(self.rng.getrandbits(64))  # noqa: S311 - seeded on purpose
        profile = profile_for(device.kind, device.heartbeat_s, rng)
        if battery is not None and (profile.battery_pct is not None) != battery:
            pct = round(rng.uniform(40, 100), 1) if battery else None
            profile = replace(profile, battery_pct=pct)
        synced = self.start - timedelta(hours=rng.uniform(0, 24))  # last time sync
        return profile, rng, synced

    def smoke(self, device: Device, *, battery: bool | None = None) -> SmokeDetector:
        profile, rng, synced = self._make(device, battery)
        return SmokeDetector(device.device_id, profile, rng, synced_at=synced)

    def station(self, device: Device) -> ChargingStation:
        profile, rng, synced = self._make(device, None)
        found = re.search(r"(\d+)口", device.location)
        ports = int(found.group(1)) if found else 10
        return ChargingStation(device.device_id, profile, rng, synced_at=synced, ports=ports)

    def meter(self, device: Device) -> LoadDetector:
        profile, rng, synced = self._make(device, None)
        return LoadDetector(device.device_id, profile, rng, synced_at=synced)

    def camera(self, device: Device) -> LiftCamera:
        profile, rng, synced = self._make(device, None)
        car = device.location.removesuffix("轿厢") or device.device_id
        return LiftCamera(device.device_id, profile, rng, synced_at=synced, car=car)

    def presence(self, device: Device) -> PresenceSensor:
        profile, rng, synced = self._make(device, None)
        return PresenceSensor(device.device_id, profile, rng, synced_at=synced)

    def gas(self, device: Device) -> GasDetector:
        """A kitchen's gas detector; it drives a valve when its location names one."""
        profile, rng, synced = self._make(device, None)
        valve = naming.has_valve(device.location)
        return GasDetector(device.device_id, profile, rng, synced_at=synced, valve=valve)

    def room(self) -> SmokeSample:
        """The air of a quiet room: the baseline every smoke scenario starts from."""
        u = self.rng.uniform
        return SmokeSample(
            smoke_obs=u(*curves.AMBIENT_OBS),
            temp_c=u(*curves.AMBIENT_TEMP_C),
            co_ppm=u(*curves.AMBIENT_CO_PPM),
            humidity_pct=u(*curves.AMBIENT_HUMIDITY),
        )

    # -- the result ------------------------------------------------------------------------------

    def script(
        self,
        messages: tuple[Message, ...],
        *,
        venue: Venue,
        device_ids: Sequence[str],
        what: str,
        onset: datetime,
        end: datetime,
        expected: Outcome,
        bound_s: int | None,
        bound: str,
        source: str,
        window: tuple[float, float] | None = None,
    ) -> Script:
        truth = GroundTruth(
            scenario=self.name,
            venue_id=venue.venue_id,
            device_ids=tuple(device_ids),
            what=what,
            start=self.start,
            onset=onset,
            end=end,
            expected=expected,
            bound_s=bound_s,
            bound=bound,
            source=source,
            device_alarm_window_s=window,
        )
        return Script(messages, truth)


@dataclass(frozen=True, slots=True)
class ScenarioSpec:
    """One scenario of the library: its name, what it shows, and how to build it."""

    name: str
    summary: str
    build: Callable[[Context], Script]
    local_start: tuple[int, int] | None = None  # (hour, minute): night scenarios start then
