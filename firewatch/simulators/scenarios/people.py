"""People: e-bikes taken into lifts, someone sleeping in a shop, a legitimate night shift.

Behaviour, not physics: rates and schedules are assumed (see `curves`); night scenarios start at
a local evening hour so that time-of-day rules see them at night.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from firewatch.kernel.contract import DeviceKind, VenueType
from firewatch.simulators import curves
from firewatch.simulators.devices import LiftCamera, PresenceSensor
from firewatch.simulators.records import Message, Outcome, Script
from firewatch.simulators.scenarios.context import Context
from firewatch.simulators.scenarios.timeline import Step, Timeline, announce, heartbeat, seconds

SOURCE = "behaviour schedule, rates assumed (curves.py)"
Presence = Callable[[float], tuple[int, int]]  # minutes since start -> (people, still minutes)


def ebike_in_lift(ctx: Context) -> Script:
    """An evening of lift rides: a few strangers' bikes, and one rider who comes back again.

    Source: behaviour, assumed (`curves.LIFT_*`): 0.5 stray rides an hour, one rider
    three times to the same floor, 80 % of rides held at the door with a voice warning.
    """
    venue = ctx.venue(
        (VenueType.HIGH_RISE, VenueType.RESIDENTIAL_COMPOUND), {DeviceKind.ELEVATOR: 2}
    )
    devices = ctx.devices(venue, DeviceKind.ELEVATOR)
    cams = [ctx.camera(d) for d in devices]
    rng, span = ctx.rng, 4 * 3600.0
    top = rng.randint(12, 30)
    home = rng.randint(5, top)
    rides = [(rng.uniform(curves.LEAD_IN_S, span - 900.0), home, True)
             for _ in range(curves.LIFT_OFFENDER_RIDES)]  # fmt: skip
    t = curves.LEAD_IN_S
    while (t := t + rng.expovariate(curves.LIFT_BACKGROUND_PER_H / 3600.0)) < span - 900.0:
        rides.append((t, rng.randint(1, top), False))
    end = ctx.at(span)
    tl = Timeline(ctx.start, end)
    for cam in cams:
        announce(tl, cam)
        heartbeat(tl, cam)
    busy = {cam.device_id: 0.0 for cam in cams}
    offender_rides: list[float] = []
    for planned, floor, offender in sorted(rides):
        at = planned
        if all(b > at for b in busy.values()):
            at = min(busy.values()) + 5.0  # every car holds a bike: wait for the first free one
        cam = rng.choice([c for c in cams if busy[c.device_id] <= at])
        dwell = rng.uniform(*curves.LIFT_DWELL_S)
        busy[cam.device_id] = at + dwell
        low, high = curves.LIFT_CONFIDENCE
        confidence = rng.uniform((low + high) / 2, high) if offender else rng.uniform(low, high)
        blocked = rng.random() < curves.LIFT_BLOCK_RATE
        tl.once(ctx.at(at), _ride(cam, floor, confidence, blocked))
        tl.once(ctx.at(at + dwell), _out(cam))
        if offender:
            offender_rides.append(at)
    last_ride = max(offender_rides)
    return ctx.script(
        tl.run(), venue=venue, device_ids=tuple(d.device_id for d in devices),
        what=f"the same rider takes an e-bike up to floor {home} "
             f"{curves.LIFT_OFFENDER_RIDES} times in an evening, among strangers' rides",
        onset=ctx.at(last_ride), end=end, expected=Outcome.HAZARD_CASE, bound_s=1800,
        bound="hazard case within 30 min of the repeat offender's last ride", source=SOURCE,
    )  # fmt: skip


def _ride(cam: LiftCamera, floor: int, confidence: float, blocked: bool) -> Step:
    return lambda now: [cam.detect(now, floor=floor, confidence=confidence, blocked=blocked)]


def _out(cam: LiftCamera) -> Step:
    return lambda now: [cam.left(now)]


def _run_presence(tl: Timeline, sensor: PresenceSensor, presence: Presence) -> None:
    """Check every minute; report at once when presence flips, else at the sensor's pace."""
    announce(tl, sensor)
    heartbeat(tl, sensor)
    due = [tl.start]

    def step(now: datetime) -> tuple[list[Message], datetime]:
        people, still = presence(seconds(tl.start, now) / 60.0)
        out: list[Message] = []
        if sensor.changed(people) or now >= due[0]:
            out.append(sensor.observe(now, people=people, still_minutes=still))
            due[0] = sensor.next_at(now)
        return out, now + timedelta(seconds=60.0)

    tl.loop(tl.start + timedelta(seconds=sensor.rng.uniform(1.0, 60.0)), step)


def sleeping_in_shop(ctx: Context) -> Script:
    """A shop closes at 22:00; someone comes back at 23:20 and sleeps there until 06:30 (三合一).

    Source: a night schedule (assumed); a sleeper's `still_minutes` climbs all night.
    """
    types = (VenueType.SMALL_SHOP, VenueType.STREET_SHOP)
    venue = ctx.venue(types, {DeviceKind.OCCUPANCY: 1})
    device = ctx.devices(venue, DeviceKind.OCCUPANCY)[0]
    rng = ctx.rng

    def presence(m: float) -> tuple[int, int]:
        if m < 60:
            return rng.randint(1, 3), rng.randint(0, 2)  # open: customers come and go
        if m < 140:
            return 0, 0  # closed and empty
        if m < 165:
            return 1, rng.randint(0, 3)  # back, moving about
        if m < 570:
            return 1, int(m - 165)  # asleep: no movement for hours
        if m < 600:
            return 1, rng.randint(0, 2)
        return 2, rng.randint(0, 2)  # the shop opens

    end = ctx.at(630 * 60.0)
    tl = Timeline(ctx.start, end)
    _run_presence(tl, ctx.presence(device), presence)
    return ctx.script(
        tl.run(), venue=venue, device_ids=(device.device_id,),
        what=f"someone sleeps in the shop ({device.location}) from 23:45 to 06:30",
        onset=ctx.at(165 * 60.0), end=end, expected=Outcome.HAZARD_CASE, bound_s=3600,
        bound="hazard case within 1 h of the sleeper lying still", source=SOURCE,
    )  # fmt: skip


def night_shift(ctx: Context) -> Script:
    """A workshop's night shift: people present all night, but moving every few minutes.

    Source: a night schedule (assumed); someone moves at least every 8 minutes.
    """
    types = (VenueType.SMALL_WORKSHOP, VenueType.FACTORY)
    venue = ctx.venue(types, {DeviceKind.OCCUPANCY: 1})
    device = ctx.devices(venue, DeviceKind.OCCUPANCY)[0]
    rng = ctx.rng
    moved = [0.0]

    def presence(m: float) -> tuple[int, int]:
        if m - moved[0] >= rng.uniform(1.0, curves.STILL_AWAKE_MAX_MIN):
            moved[0] = m  # someone fetches material, walks to a machine
        return rng.randint(2, 4), int(m - moved[0])

    end = ctx.at(600 * 60.0)
    tl = Timeline(ctx.start, end)
    _run_presence(tl, ctx.presence(device), presence)
    return ctx.script(
        tl.run(), venue=venue, device_ids=(device.device_id,),
        what=f"a registered night shift at {device.location}, 21:00-07:00", onset=ctx.start,
        end=end, expected=Outcome.NOTHING, bound_s=None,
        bound="no case: people present at night but awake and moving", source=SOURCE,
    )  # fmt: skip
