"""Nuisances: things that look a little like smoke to a detector but are not a fire.

None of them is in shared/data (the NIST tests there are all fires); their shapes follow how a
photoelectric chamber reacts to each aerosol — cooking and steam rise while the source lasts and
decay after it, an insect or a dust puff is one sample — with plausible numbers (see `curves`).
What they must never show is a fire's heat rise (`curves.FIRE_HEAT_RISE_C`).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from firewatch.kernel.contract import DeviceKind, VenueType
from firewatch.simulators import curves
from firewatch.simulators.devices import SmokeSample
from firewatch.simulators.records import Message, Outcome, Script
from firewatch.simulators.scenarios.context import Context
from firewatch.simulators.scenarios.timeline import Timeline, seconds, watch

SOURCE = "no measured curve in shared/data: nuisance aerosol shape, numbers assumed (curves.py)"
NO_ALARM = "no alarm and no case (a nuisance)"


def _bump(t: float, start: float, length: float, peak: float) -> float:
    return curves.pulse(
        t,
        start=start,
        length=length,
        peak=peak,
        rise_s=curves.NUISANCE_RISE_S,
        decay_s=curves.NUISANCE_DECAY_S,
    )


def cooking_fumes(ctx: Context) -> Script:
    """Frying in a small kitchen: aerosol bursts of a few minutes; the worst trip the detector.

    Source: no measured curve here; episodes of 2-5 min peaking at 3-14 %/m with +1-3.5 °C
    (assumed, `curves.COOKING_*`), far below the heat rise of the NIST flaming fires.
    """
    venue = ctx.venue((VenueType.SMALL_RESTAURANT,), {DeviceKind.SMOKE: 1})
    device = ctx.devices(venue, DeviceKind.SMOKE)[0]
    u = ctx.rng.uniform
    episodes: list[tuple[float, float, float, float, float, float]] = []
    start = curves.LEAD_IN_S
    for _ in range(curves.COOKING_EPISODES):
        length = u(*curves.COOKING_LENGTH_S)
        episodes.append((start, length, u(*curves.COOKING_PEAK_OBS), u(*curves.COOKING_HEAT_C),
                         u(*curves.COOKING_HUMIDITY), u(*curves.COOKING_CO_PPM)))  # fmt: skip
        start += length + u(*curves.COOKING_GAP_S)
    end = ctx.at(start + 900.0)
    room = ctx.room()

    def air(now: datetime) -> SmokeSample:
        t = seconds(ctx.start, now)
        return SmokeSample(
            smoke_obs=room.smoke_obs + sum(_bump(t, e[0], e[1], e[2]) for e in episodes),
            temp_c=room.temp_c + sum(_bump(t, e[0], e[1], e[3]) for e in episodes),
            humidity_pct=min(
                100.0, room.humidity_pct + sum(_bump(t, e[0], e[1], e[4]) for e in episodes)
            ),
            co_ppm=room.co_ppm + sum(_bump(t, e[0], e[1], e[5]) for e in episodes),
        )

    tl = Timeline(ctx.start, end)
    watch(tl, ctx.smoke(device), air)
    return ctx.script(
        tl.run(), venue=venue, device_ids=(device.device_id,),
        what=f"cooking fumes at {device.location}: {len(episodes)} frying episodes",
        onset=ctx.at(curves.LEAD_IN_S), end=end, expected=Outcome.NOTHING, bound_s=None,
        bound=NO_ALARM, source=SOURCE,
    )  # fmt: skip


def shower_steam(ctx: Context) -> Script:
    """A hot shower: humidity near saturation, a few %/m of 'smoke' from droplets, warm air.

    Source: assumed (`curves.STEAM_*`): 10-20 min to 97 % RH, 1.5-6 %/m, +3-6 °C.
    """
    venue = ctx.venue((VenueType.SMALL_BEAUTY_BATH, VenueType.SMALL_HOTEL), {DeviceKind.SMOKE: 1})
    device = ctx.devices(venue, DeviceKind.SMOKE)[0]
    u = ctx.rng.uniform
    start, length = curves.LEAD_IN_S, u(*curves.STEAM_LENGTH_S)
    peak, heat = u(*curves.STEAM_PEAK_OBS), u(*curves.STEAM_HEAT_C)
    end = ctx.at(start + length + 1200.0)
    room = ctx.room()

    def air(now: datetime) -> SmokeSample:
        t = seconds(ctx.start, now)
        wet = _bump(t, start, length, 1.0)
        return SmokeSample(
            smoke_obs=room.smoke_obs + _bump(t, start, length, peak),
            temp_c=room.temp_c + heat * wet,
            co_ppm=room.co_ppm,
            humidity_pct=room.humidity_pct + (curves.STEAM_HUMIDITY - room.humidity_pct) * wet,
        )

    tl = Timeline(ctx.start, end)
    watch(tl, ctx.smoke(device), air)
    return ctx.script(
        tl.run(), venue=venue, device_ids=(device.device_id,),
        what=f"shower steam reaching the detector at {device.location}",
        onset=ctx.at(start), end=end, expected=Outcome.NOTHING, bound_s=None,
        bound=NO_ALARM, source=SOURCE,
    )  # fmt: skip


def dust_and_insects(ctx: Context) -> Script:
    """Single-sample spikes: an insect crawling through the chamber, a puff of site dust.

    Source: assumed (`curves.SPIKE_*`): three one-sample spikes of 8-25 %/m in two hours.
    """
    types = (VenueType.CONSTRUCTION_SITE, VenueType.UNDERGROUND_SPACE, VenueType.FACTORY)
    venue = ctx.venue(types, {DeviceKind.SMOKE: 1})
    device = ctx.devices(venue, DeviceKind.SMOKE)[0]
    u = ctx.rng.uniform
    spikes = sorted(
        (curves.LEAD_IN_S + u(0, curves.SPIKE_SPAN_S), u(*curves.SPIKE_OBS))
        for _ in range(curves.SPIKES)
    )
    pending = list(spikes)
    end = ctx.at(curves.LEAD_IN_S + curves.SPIKE_SPAN_S + 600.0)
    room = ctx.room()

    def air(now: datetime) -> SmokeSample:
        # A spike is seen by exactly one sample: the first one taken at or after it.
        extra = 0.0
        if pending and seconds(ctx.start, now) >= pending[0][0]:
            extra = pending.pop(0)[1]
        return SmokeSample(room.smoke_obs + extra, room.temp_c, room.co_ppm, room.humidity_pct)

    tl = Timeline(ctx.start, end)
    watch(tl, ctx.smoke(device), air)
    return ctx.script(
        tl.run(), venue=venue, device_ids=(device.device_id,),
        what=f"{len(spikes)} single-sample spikes (insects, dust) at {device.location}",
        onset=ctx.at(spikes[0][0]), end=end, expected=Outcome.NOTHING, bound_s=None,
        bound=NO_ALARM, source=SOURCE,
    )  # fmt: skip


def test_and_hush(ctx: Context) -> Script:
    """The monthly test button; later burnt toast trips the alarm and the occupant hushes it.

    Source: the hush behaviour of UL 217 alarm silence (raised level for 10 min); the toast
    pulse is assumed (18 %/m for 3 min).
    """
    types = (VenueType.RESIDENTIAL_COMPOUND, VenueType.RENTAL_HOUSING)
    venue = ctx.venue(types, {DeviceKind.SMOKE: 1})
    device = ctx.devices(venue, DeviceKind.SMOKE)[0]
    det = ctx.smoke(device)
    toast_at, toast_len, toast_peak = curves.LEAD_IN_S + 900.0, 180.0, 18.0
    end = ctx.at(toast_at + toast_len + 1500.0)
    room = ctx.room()

    def air(now: datetime) -> SmokeSample:
        extra = _bump(seconds(ctx.start, now), toast_at, toast_len, toast_peak)
        return SmokeSample(
            room.smoke_obs + extra, room.temp_c + extra / 10, room.co_ppm, room.humidity_pct
        )

    heard: list[datetime] = []

    def occupant(now: datetime) -> tuple[list[Message], datetime | None]:
        # Someone hears the horn and reaches the hush button about 20 s later.
        if det.alarm and not heard:
            heard.append(now)
        if heard and now >= heard[0] + timedelta(seconds=20):
            return det.press_hush(now), None
        return [], now + timedelta(seconds=1)

    tl = Timeline(ctx.start, end)
    watch(tl, det, air)
    tl.once(ctx.at(curves.LEAD_IN_S), det.press_test)
    tl.loop(ctx.at(toast_at), occupant)
    return ctx.script(
        tl.run(), venue=venue, device_ids=(device.device_id,),
        what=f"test button at {device.location}, then burnt toast alarm silenced with hush",
        onset=ctx.at(toast_at), end=end, expected=Outcome.NOTHING, bound_s=None,
        bound=NO_ALARM, source=SOURCE,
    )  # fmt: skip
