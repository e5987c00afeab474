"""Device troubles: tamper, a flat battery, a lost connection, a frozen sensor, a dirty chamber.

None is a fire; each needs maintenance, so the engine should raise a trouble and nothing else.
Time scales are assumed (see `curves`), chosen so that a run stays hours, not weeks.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from firewatch.kernel.contract import DeviceKind, VenueType
from firewatch.simulators import curves
from firewatch.simulators.devices import SmokeSample
from firewatch.simulators.records import Message, Outcome, Script
from firewatch.simulators.scenarios.context import Context
from firewatch.simulators.scenarios.timeline import Timeline, seconds, watch

SOURCE = "device trouble; time scales assumed (curves.py)"
ANY_SMOKE = tuple(VenueType)


def tamper(ctx: Context) -> Script:
    """A detector pulled off its base (smokers in an internet cafe); it keeps reporting.

    Source: device behaviour (a tamper switch), no curve.
    """
    types = (VenueType.SMALL_INTERNET_CAFE, VenueType.SMALL_ENTERTAINMENT, VenueType.SMALL_HOTEL)
    venue = ctx.venue(types, {DeviceKind.SMOKE: 1})
    device = ctx.devices(venue, DeviceKind.SMOKE)[0]
    det, room = ctx.smoke(device), ctx.room()
    onset, end = ctx.at(curves.LEAD_IN_S), ctx.at(curves.LEAD_IN_S + 1800.0)
    tl = Timeline(ctx.start, end)
    watch(tl, det, lambda _now: room)
    tl.once(onset, det.remove_from_base)
    return ctx.script(
        tl.run(), venue=venue, device_ids=(device.device_id,),
        what=f"detector at {device.location} removed from its base", onset=onset, end=end,
        expected=Outcome.TROUBLE_ONLY, bound_s=300, bound="trouble within 300 s of the tamper",
        source=SOURCE,
    )  # fmt: skip


def low_battery(ctx: Context) -> Script:
    """A battery detector running down: charge falls each heartbeat, one low-battery event.

    Source: assumed (`curves.LOW_BATTERY_*`): 17 % falling 1 %/h, warning below 15 %.
    """
    venue = ctx.venue(ANY_SMOKE, {DeviceKind.SMOKE: 1})
    device = ctx.devices(venue, DeviceKind.SMOKE)[0]
    det, room = ctx.smoke(device, battery=True), ctx.room()
    det.battery_pct = curves.LOW_BATTERY_START_PCT
    end = ctx.at(curves.TROUBLE_SPAN_S)
    hours_to_low = (
        curves.LOW_BATTERY_START_PCT - curves.LOW_BATTERY_PCT
    ) / curves.LOW_BATTERY_PCT_PER_H

    def air(now: datetime) -> SmokeSample:
        # The battery is a state of the device, updated as time passes (before the heartbeat).
        det.battery_pct = curves.LOW_BATTERY_START_PCT - (
            curves.LOW_BATTERY_PCT_PER_H * seconds(ctx.start, now) / 3600.0
        )
        return room

    tl = Timeline(ctx.start, end)
    watch(tl, det, air)
    return ctx.script(
        tl.run(), venue=venue, device_ids=(device.device_id,),
        what=f"battery of {device.location} falling below {curves.LOW_BATTERY_PCT:g} %",
        onset=ctx.at(hours_to_low * 3600.0), end=end, expected=Outcome.TROUBLE_ONLY,
        bound_s=3600, bound="trouble within 1 h of the battery crossing its low limit",
        source=SOURCE,
    )  # fmt: skip


def offline(ctx: Context) -> Script:
    """Power and network lost: the broker publishes the Last Will; later it reboots (seq 0).

    Source: MQTT 3.1.1 keep-alive: the broker drops a silent client after 1.5 keep-alives
    and publishes its will; the detector is back 3 heartbeats and 10 min later.
    """
    venue = ctx.venue(ANY_SMOKE, {DeviceKind.SMOKE: 1})
    device = ctx.devices(venue, DeviceKind.SMOKE)[0]
    det, room = ctx.smoke(device), ctx.room()
    lost = ctx.at(600.0 + ctx.rng.uniform(0, 60))
    silence = 3 * device.heartbeat_s
    back = lost + timedelta(seconds=silence + 600.0)
    end = back + timedelta(seconds=900.0)
    tl = Timeline(ctx.start, end)
    watch(tl, det, lambda _now: room, until=lost)
    # The broker notices a dead connection 1.5 keep-alives after the last packet (MQTT 3.1.1).
    tl.once(lost + timedelta(seconds=1.5 * curves.KEEPALIVE_S), lambda now: [det.will(now)])

    def revive(now: datetime) -> list[Message]:
        out = det.reboot(now)
        tl.loop(now + timedelta(seconds=2), lambda t: (det.observe(t, room), det.next_at(t)))
        tl.every(now + timedelta(seconds=3), device.heartbeat_s, lambda t: [det.status(t)])
        return out

    tl.once(back, revive)
    return ctx.script(
        tl.run(), venue=venue, device_ids=(device.device_id,),
        what=f"detector at {device.location} lost power at {lost.isoformat()}, back after reboot",
        onset=lost, end=end, expected=Outcome.TROUBLE_ONLY, bound_s=silence,
        bound=f"offline trouble within {silence} s (3 heartbeats) of the last message",
        source=SOURCE,
    )  # fmt: skip


def stuck_sensor(ctx: Context) -> Script:
    """A frozen front end: after an hour the readings repeat the same values exactly.

    Source: a failure mode, no curve: six hours of identical values after one normal hour.
    """
    types = (VenueType.FACTORY, VenueType.UNDERGROUND_SPACE, VenueType.HIGH_RISE)
    venue = ctx.venue(types, {DeviceKind.SMOKE: 1})
    device = ctx.devices(venue, DeviceKind.SMOKE)[0]
    det, room = ctx.smoke(device), ctx.room()
    onset, end = ctx.at(3600.0), ctx.at(3600.0 + curves.TROUBLE_SPAN_S)

    def freeze(now: datetime) -> list[Message]:
        det.stuck = det.sense(room)
        return []

    tl = Timeline(ctx.start, end)
    watch(tl, det, lambda _now: room)
    tl.once(onset, freeze)
    return ctx.script(
        tl.run(), venue=venue, device_ids=(device.device_id,),
        what=f"sensor of {device.location} frozen: identical readings from {onset.isoformat()}",
        onset=onset, end=end, expected=Outcome.TROUBLE_ONLY, bound_s=3 * 3600,
        bound="trouble within 3 h of the readings freezing", source=SOURCE,
    )  # fmt: skip


def slow_drift(ctx: Context) -> Script:
    """Dust settling in the chamber lifts the baseline over a day, until the detector faults.

    Source: assumed (`curves.DRIFT_*`): +4 %/m in 24 h, compensation gives up at 3 %/m;
    real chambers drift over months, compressed here to keep a run to a day.
    """
    types = (VenueType.SMALL_WORKSHOP, VenueType.FACTORY, VenueType.CONSTRUCTION_SITE)
    venue = ctx.venue(types, {DeviceKind.SMOKE: 1})
    device = ctx.devices(venue, DeviceKind.SMOKE)[0]
    det, room = ctx.smoke(device), ctx.room()
    det.quiet_s = curves.DRIFT_REPORT_S
    end = ctx.at(curves.DRIFT_SPAN_S)
    to_fault_s = curves.DRIFT_SPAN_S * curves.DRIFT_FAULT_OBS / curves.DRIFT_TO_OBS

    def air(now: datetime) -> SmokeSample:
        det.chamber_drift = curves.DRIFT_TO_OBS * seconds(ctx.start, now) / curves.DRIFT_SPAN_S
        return room

    tl = Timeline(ctx.start, end)
    watch(tl, det, air)
    return ctx.script(
        tl.run(), venue=venue, device_ids=(device.device_id,),
        what=f"chamber of {device.location} drifting up {curves.DRIFT_TO_OBS:g} %/m in a day",
        onset=ctx.start, end=end, expected=Outcome.TROUBLE_ONLY, bound_s=int(to_fault_s),
        bound="maintenance trouble before the detector's own drift fault", source=SOURCE,
    )  # fmt: skip
