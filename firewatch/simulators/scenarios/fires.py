"""Real fires: a fast flaming fire and a slow smouldering one."""

from __future__ import annotations

from datetime import datetime, timedelta

from firewatch.kernel.contract import DeviceKind, VenueType
from firewatch.simulators import curves
from firewatch.simulators.devices import SmokeSample
from firewatch.simulators.records import Outcome, Script
from firewatch.simulators.scenarios.context import Context
from firewatch.simulators.scenarios.timeline import Air, Timeline, seconds, watch

FLAMING_VENUES = (
    VenueType.RENTAL_HOUSING,
    VenueType.SELF_BUILT_HOUSE,
    VenueType.SMALL_RESTAURANT,
    VenueType.SMALL_SHOP,
    VenueType.SMALL_WORKSHOP,
    VenueType.SMALL_HOTEL,
)
SMOULDER_VENUES = (VenueType.RENTAL_HOUSING, VenueType.SELF_BUILT_HOUSE, VenueType.SMALL_HOTEL)


def _flaming_air(room: SmokeSample, ignition: datetime, speed: float, shift_s: float) -> Air:
    def air(now: datetime) -> SmokeSample:
        t = seconds(ignition, now)
        od = curves.FLAMING_OD.at(t, speed=speed, shift_s=shift_s)
        return SmokeSample(
            smoke_obs=min(100.0, room.smoke_obs + curves.obscuration(od)),
            temp_c=room.temp_c + curves.FLAMING_HEAT.at(t, speed=speed, shift_s=shift_s),
            co_ppm=room.co_ppm + curves.FLAMING_CO.at(t, speed=speed, shift_s=shift_s),
            humidity_pct=room.humidity_pct,
        )

    return air


def flaming_fire(ctx: Context) -> Script:
    """A flaming fire (upholstery, bedding) grows t-squared in a room with two detectors.

    Source: NIST home smoke alarm tests SDC02/05/33/35 (shared/data/nist-smoke-alarms-flaming):
    the room-of-origin ceiling detector sees smoke 6-20 s after ignition and crosses its alarm
    level 29-57 s after it (real first alarms: 20-108 s); the next room's detector lags ~30 s
    with about a third of the smoke density; heat +30 °C at ~100 s, CO ~200 ppm at ~150 s.
    """
    venue = ctx.venue(FLAMING_VENUES, {DeviceKind.SMOKE: 2})
    origin, neighbour = ctx.devices(venue, DeviceKind.SMOKE)[:2]
    ignition = ctx.at(curves.LEAD_IN_S)
    end = ignition + timedelta(seconds=curves.FLAMING_DURATION_S)
    speed = ctx.rng.uniform(*curves.FLAMING_SPEED)
    delay = ctx.rng.uniform(*curves.FLAMING_DELAY_S)
    extra_s, density = curves.FLAMING_NEIGHBOUR
    tl = Timeline(ctx.start, end)
    room = ctx.room()
    watch(tl, ctx.smoke(origin), _flaming_air(room, ignition, speed, delay))
    watch(tl, ctx.smoke(neighbour), _flaming_air(room, ignition, speed * density, delay + extra_s))
    return ctx.script(
        tl.run(),
        venue=venue,
        device_ids=(origin.device_id, neighbour.device_id),
        what=f"flaming fire at {origin.location}, spreading smoke to {neighbour.location}",
        onset=ignition,
        end=end,
        expected=Outcome.ALARM,
        bound_s=curves.FLAMING_BOUND_S,
        bound=f"alarm within {curves.FLAMING_BOUND_S} s of ignition",
        source="NIST home smoke alarm tests SDC02/05/33/35 (flaming, room of origin)",
        window=curves.FLAMING_ALARM_WINDOW_S,
    )


def smouldering_fire(ctx: Context) -> Script:
    """A smouldering fire (a cigarette in bedding): CO first, smoke slowly, almost no heat.

    Source: the smouldering test fires of UL 217 and EN 54-7 (TF2 wood pyrolysis, TF3 cotton
    smoulder), by their description — tens of minutes, CO ahead of visible smoke, a ceiling that
    barely warms. Not in shared/data: the numbers (CO 6 ppm a minute, smoke from minute 4,
    detector alarm after 15-22 min) are plausible choices, see `curves`.
    """
    venue = ctx.venue(SMOULDER_VENUES, {DeviceKind.SMOKE: 1})
    device = ctx.devices(venue, DeviceKind.SMOKE)[0]
    onset = ctx.at(curves.LEAD_IN_S)
    end = onset + timedelta(seconds=curves.SMOULDER_DURATION_S)
    speed = ctx.rng.uniform(*curves.SMOULDER_SPEED)
    room = ctx.room()

    def air(now: datetime) -> SmokeSample:
        t = max(0.0, seconds(onset, now))
        od = curves.SMOULDER_OD.at(t, speed=speed)
        return SmokeSample(
            smoke_obs=min(100.0, room.smoke_obs + curves.obscuration(od)),
            temp_c=room.temp_c + curves.SMOULDER_HEAT_C_S * t,
            co_ppm=room.co_ppm + curves.SMOULDER_CO_PPM_S * t,
            humidity_pct=room.humidity_pct,
        )

    tl = Timeline(ctx.start, end)
    watch(tl, ctx.smoke(device), air)
    return ctx.script(
        tl.run(),
        venue=venue,
        device_ids=(device.device_id,),
        what=f"smouldering fire under {device.location}: CO first, smoke after minutes",
        onset=onset,
        end=end,
        expected=Outcome.ALARM,
        bound_s=curves.SMOULDER_BOUND_S,
        bound=f"alarm within {curves.SMOULDER_BOUND_S // 60} min of the smoulder starting",
        source="UL 217 / EN 54-7 smouldering test fires TF2, TF3 (shapes; numbers assumed)",
        window=curves.SMOULDER_ALARM_WINDOW_S,
    )
