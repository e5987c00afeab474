"""Thermal runaway of an e-bike pack while it charges in a shed."""

from __future__ import annotations

from datetime import datetime, timedelta

from firewatch.kernel.contract import DeviceKind, VenueType
from firewatch.simulators import curves
from firewatch.simulators.devices import PortSample, SmokeSample
from firewatch.simulators.records import Outcome, Script
from firewatch.simulators.scenarios.charging import new_charge, run_station
from firewatch.simulators.scenarios.context import Context
from firewatch.simulators.scenarios.timeline import Timeline, seconds, watch


def thermal_runaway(ctx: Context) -> Script:
    """A pack with an internal short heats itself while charging, vents, then burns.

    Source, from venting on: UL FSRI Li-ion cell experiment (shared/data/ulfsri-li-ion-thermal-
    runaway) — hydrocarbons ~5 s ahead of the onset, CO ~9 s and H2 ~14 s after it, the cells'
    temperature flat until ~60 s after onset and then 900-1,080 °C within ~20 s, flaming at 38 s.
    Before venting (assumed, not in the data: the cell there was heated from outside): 12 min of
    accelerating self-heating from charging temperature to ~95 °C at the pack surface, the draw
    swinging and creeping up in the last 5 min, the port cutting power at 70 °C (`overtemp`) —
    which does not stop it. The shed's detector sees the vent-gas cloud ~15-40 s after onset.
    The station's electronics die 150 s after onset; the broker then sends its Last Will.
    """
    venue = ctx.venue((VenueType.EBIKE_SHED,), {DeviceKind.CHARGING: 1, DeviceKind.SMOKE: 1})
    charger = ctx.devices(venue, DeviceKind.CHARGING)[0]
    detector = ctx.devices(venue, DeviceKind.SMOKE)[0]
    station, det, room = ctx.station(charger), ctx.smoke(detector), ctx.room()
    station.has_gas = True  # a charging cabinet with off-gas sensors
    rng = ctx.rng
    heating = ctx.at(curves.LEAD_IN_S + 300.0)
    vent = heating + timedelta(seconds=curves.TR_PREHEAT_S)
    swing_from = vent - timedelta(seconds=curves.TR_CURRENT_ANOMALY_S)
    lost = vent + timedelta(seconds=curves.TR_PORT_LOST_S)
    end = vent + timedelta(seconds=curves.TR_AFTER_S)
    peak_c = rng.uniform(*curves.TR_PEAK_C)
    speed = rng.uniform(*curves.TR_SPEED)
    port, *others = rng.sample(station.ports, 3)
    faulty = new_charge(rng, ctx.at(60.0), room.temp_c)

    def pack(now: datetime) -> PortSample:
        normal = faulty.load(now)
        if now < heating:
            return normal
        t = seconds(vent, now)
        if now < vent:
            power = normal.power_w
            if now >= swing_from:  # an internal short: the draw creeps up and swings
                creep = (
                    curves.TR_CURRENT_CREEP * seconds(swing_from, now) / curves.TR_CURRENT_ANOMALY_S
                )
                power *= 1 + creep + curves.TR_CURRENT_SWING * rng.uniform(-1.0, 1.0)
            hot = curves.self_heating(seconds(heating, now), normal.temp_c)
            return PortSample("charging", power, hot, normal.energy_wh, voc_ppm=curves.TR_VOC.at(t))
        return PortSample(
            "charging",  # still plugged in; the pack's fuse has opened, no current flows
            0.0,
            curves.runaway_heat(t, curves.TR_VENT_SURFACE_C, peak_c),
            normal.energy_wh,
            co_ppm=curves.TR_CO.at(t),
            h2_ppm=curves.TR_H2.at(t),
            voc_ppm=curves.TR_VOC.at(t),
        )

    def air(now: datetime) -> SmokeSample:
        t = seconds(vent, now)
        od = curves.TR_SMOKE_OD.at(t, speed=speed)
        fire = t - curves.TR_FLAMING_S
        return SmokeSample(
            smoke_obs=min(100.0, room.smoke_obs + curves.obscuration(od)),
            temp_c=room.temp_c + curves.FLAMING_HEAT.at(fire, speed=speed),
            co_ppm=room.co_ppm + 0.3 * curves.TR_CO.at(t) + curves.FLAMING_CO.at(fire, speed=speed),
            humidity_pct=room.humidity_pct,
        )

    neighbours = {p: new_charge(rng, ctx.at(rng.uniform(0, 900)), room.temp_c) for p in others}
    loads = {port: pack} | {p: c.load for p, c in neighbours.items()}
    changes = {port: faulty.changes} | {p: c.changes for p, c in neighbours.items()}
    tl = Timeline(ctx.start, end)
    run_station(tl, station, loads, room.temp_c, changes=changes, until=lost)
    tl.once(lost + timedelta(seconds=1.5 * curves.KEEPALIVE_S), lambda now: [station.will(now)])
    watch(tl, det, air)
    return ctx.script(
        tl.run(), venue=venue, device_ids=(detector.device_id, charger.device_id),
        what=f"thermal runaway of the pack on port {port} of {charger.location}, then fire",
        onset=vent, end=end, expected=Outcome.ALARM, bound_s=curves.TR_BOUND_S,
        bound=f"alarm within {curves.TR_BOUND_S} s of the pack venting",
        source="UL FSRI Li-ion cell thermal runaway experiment (venting on); pre-heating assumed",
        window=curves.TR_ALARM_WINDOW_S,
    )  # fmt: skip
