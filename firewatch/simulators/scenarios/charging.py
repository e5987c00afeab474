"""E-bike charging: a normal charge, a port tripping on overcurrent, a bike charged indoors.

Charge curves are constant current, then constant voltage with an exponentially decaying
current, until the charger reports the pack full (48 V packs of 10-20 Ah on 2-3 A chargers; the
numbers are assumed, see `curves`). Sheds have multi-port stations; homes have a load meter.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import partial
from random import Random

from firewatch.kernel.contract import DeviceKind, VenueType
from firewatch.simulators import curves
from firewatch.simulators.devices import ChargingStation, PortSample
from firewatch.simulators.records import Message, Outcome, Script
from firewatch.simulators.scenarios.context import Context
from firewatch.simulators.scenarios.timeline import Step, Timeline, announce, heartbeat, seconds

Load = Callable[[datetime], PortSample]
SOURCE = "CC/CV charge curve of 48 V e-bike packs (numbers assumed, curves.py)"
SHEDS = (VenueType.EBIKE_SHED, VenueType.RESIDENTIAL_COMPOUND)


@dataclass(frozen=True, slots=True)
class Charge:
    """One pack on one charger: plugged in at `plug`, unplugged at `unplug` (None: stays)."""

    plug: datetime
    cc_w: float
    cc_s: float
    full_s: float
    ambient_c: float
    surface_c: float
    unplug: datetime | None = None

    @property
    def changes(self) -> list[datetime]:
        """When the port sees the load change: plugged in, full, unplugged."""
        full = self.plug + timedelta(seconds=self.full_s + 1.0)
        return [self.plug, full] + ([self.unplug] if self.unplug is not None else [])

    def load(self, now: datetime) -> PortSample:
        if now < self.plug or (self.unplug is not None and now >= self.unplug):
            return PortSample("idle", 0.0, self.ambient_c)
        t = seconds(self.plug, now)
        power = curves.charge_power(t, self.cc_w, self.cc_s)
        charging = power >= curves.FULL_W
        warm = self.ambient_c + (self.surface_c - self.ambient_c) * min(1.0, power / self.cc_w)
        energy = curves.charge_energy(t, self.cc_w, self.cc_s)
        return PortSample(
            "charging" if charging else "full", power if charging else 0.5, warm, energy
        )


def new_charge(rng: Random, plug: datetime, ambient_c: float) -> Charge:
    cc_w = rng.uniform(*curves.CHARGER_CC_W)
    pack_wh, soc = rng.uniform(*curves.PACK_WH), rng.uniform(*curves.PACK_START_SOC)
    cc_s, full_s = curves.charge_seconds(cc_w, pack_wh, soc)
    surface = ambient_c + rng.uniform(*curves.CHARGING_SURFACE_RISE_C)
    return Charge(plug, cc_w, cc_s, full_s, ambient_c, surface)


def _idle(ambient_c: float) -> Load:
    return lambda _now: PortSample("idle", 0.0, ambient_c)


def _first(step: Callable[[datetime], tuple[list[Message], datetime]]) -> Step:
    return lambda now: step(now)[0]


def run_station(
    tl: Timeline,
    station: ChargingStation,
    loads: Mapping[int, Load],
    ambient_c: float,
    *,
    changes: Mapping[int, Sequence[datetime]] | None = None,
    until: datetime | None = None,
) -> None:
    """Every port of a station reporting at its own pace, and at once when its load changes
    (a port trips or starts a charge the moment it happens, not at its next report)."""
    announce(tl, station)
    heartbeat(tl, station, until=until)
    for port in station.ports:
        load = loads.get(port, _idle(ambient_c))

        def step(
            now: datetime, port: int = port, load: Load = load
        ) -> tuple[list[Message], datetime]:
            sample = load(now)
            return station.observe(now, port, sample), station.next_at(now, port, sample)

        tl.loop(tl.start + timedelta(seconds=station.rng.uniform(1.0, 60.0)), step, until=until)
        for when in (changes or {}).get(port, ()):
            if until is None or when < until:
                tl.once(when, _first(step))


def normal_charging(ctx: Context) -> Script:
    """Three bikes charging in a shed, each to full; then they are taken away.

    Source: CC/CV charge of 48 V 10-20 Ah packs on 150-230 W chargers (assumed, `curves`).
    """
    venue = ctx.venue(SHEDS, {DeviceKind.CHARGING: 1})
    device = ctx.devices(venue, DeviceKind.CHARGING)[0]
    station, ambient = ctx.station(device), ctx.room().temp_c
    ports = ctx.rng.sample(station.ports, 3)
    charges = [new_charge(ctx.rng, ctx.at(60.0 + ctx.rng.uniform(0, 600)), ambient) for _ in ports]
    done = [c.plug + timedelta(seconds=c.full_s + 600.0) for c in charges]
    charges = [replace(c, unplug=d) for c, d in zip(charges, done, strict=True)]
    end = max(done) + timedelta(seconds=600.0)
    tl = Timeline(ctx.start, end)
    by_port = dict(zip(ports, charges, strict=True))
    loads = {p: c.load for p, c in by_port.items()}
    run_station(tl, station, loads, ambient, changes={p: c.changes for p, c in by_port.items()})
    return ctx.script(
        tl.run(), venue=venue, device_ids=(device.device_id,),
        what=f"three e-bikes charged to full on ports {sorted(ports)} of {device.location}",
        onset=charges[0].plug, end=end, expected=Outcome.NOTHING, bound_s=None,
        bound="no alarm and no case (normal charging)", source=SOURCE,
    )  # fmt: skip


def overcurrent(ctx: Context) -> Script:
    """A high-power charger (or a modified pack) on one port: the port trips and reports it.

    Source: assumed: 6-9 A on a port limited to 5 A.
    """
    venue = ctx.venue(SHEDS, {DeviceKind.CHARGING: 1})
    device = ctx.devices(venue, DeviceKind.CHARGING)[0]
    station, ambient = ctx.station(device), ctx.room().temp_c
    good, bad = ctx.rng.sample(station.ports, 2)
    onset = ctx.at(curves.LEAD_IN_S + 120.0)
    draw_w = ctx.rng.uniform(*curves.OVERCURRENT_A) * curves.MAINS_V
    unplug = onset + timedelta(seconds=300.0)

    def heavy(now: datetime) -> PortSample:
        if onset <= now < unplug:
            return PortSample(
                "charging",
                draw_w,
                ambient + 4.0,
                curves.charge_energy(seconds(onset, now), draw_w, 1e9),
            )
        return PortSample("idle", 0.0, ambient)

    end = onset + timedelta(seconds=1800.0)
    tl = Timeline(ctx.start, end)
    first = new_charge(ctx.rng, ctx.at(60.0), ambient)
    loads = {good: first.load, bad: heavy}
    run_station(tl, station, loads, ambient, changes={good: first.changes, bad: [onset, unplug]})
    return ctx.script(
        tl.run(), venue=venue, device_ids=(device.device_id,),
        what=f"port {bad} of {device.location} drew {draw_w:.0f} W and tripped",
        onset=onset, end=end, expected=Outcome.TROUBLE_ONLY, bound_s=300,
        bound="trouble within 300 s of the trip", source=SOURCE,
    )  # fmt: skip


def indoor_charging(ctx: Context) -> Script:
    """An e-bike battery charged overnight in a flat: the meter recognises the charger.

    Source: the CC/CV curve above a household base load of 40-120 W; recognition after
    2 min with confidence 0.85-0.97 (assumed).
    """
    types = (VenueType.RENTAL_HOUSING, VenueType.SELF_BUILT_HOUSE)
    venue = ctx.venue(types, {DeviceKind.CHARGING: 1})
    device = ctx.devices(venue, DeviceKind.CHARGING)[0]
    meter, ambient = ctx.meter(device), ctx.room().temp_c
    base_w = ctx.rng.uniform(40.0, 120.0)  # the flat's own load: fridge, router, lights
    plug = ctx.at(curves.LEAD_IN_S)
    charge = new_charge(ctx.rng, plug, ambient)
    end = plug + timedelta(seconds=min(charge.full_s + 600.0, 3 * 3600.0))

    def flat(now: datetime) -> PortSample:
        bike = charge.load(now)
        return PortSample(bike.state, base_w + bike.power_w, bike.temp_c, bike.energy_wh)

    tl = Timeline(ctx.start, end)
    run_station(tl, meter, {0: flat}, ambient, changes={0: charge.changes})
    confidence = ctx.rng.uniform(*curves.LOAD_CONFIDENCE)
    recognised = plug + timedelta(seconds=curves.LOAD_RECOGNITION_S)
    tl.once(recognised, partial(meter.recognise, confidence=confidence))
    return ctx.script(
        tl.run(), venue=venue, device_ids=(device.device_id,),
        what=f"e-bike charged indoors at {device.location}", onset=plug, end=end,
        expected=Outcome.HAZARD_CASE, bound_s=900,
        bound="hazard case within 15 min of the charger being plugged in", source=SOURCE,
    )  # fmt: skip
