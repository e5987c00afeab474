"""Combustible gas in restaurant kitchens: a real leak, and the alcohol vapour of a flambé.

Both are seen by the kitchen's gas detector (% LEL). No measured curve is in shared/data: the
leak follows a room's mass balance (linear build-up while the valve feeds it, exponential
dispersal once it is shut), the vapour a short puff; the numbers are assumed (`curves.GAS_*`,
`curves.VAPOUR_*`). What tells them apart is time: a leak stays over the alarm setpoint until
the gas is shut off, a puff is gone in seconds.

The leak's valve closes in answer to a close command. The simulator cannot know the engine's
command id, so its script answers a stand-in (`CMD-SIM-{device}`) at the engine's bound — a live
harness that wants the real one answers the engine's command with `GasDetector.command`.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from firewatch.kernel.contract import DeviceKind, VenueType
from firewatch.kernel.registry import Venue
from firewatch.simulators import curves, naming
from firewatch.simulators.records import Outcome, Script
from firewatch.simulators.scenarios.context import Context
from firewatch.simulators.scenarios.timeline import Timeline, seconds, watch_gas

KITCHENS = (VenueType.SMALL_RESTAURANT,)
LEAK_SOURCE = "no measured curve in shared/data: room mass balance of an LPG leak, numbers assumed"
VAPOUR_SOURCE = "no measured curve in shared/data: alcohol vapour puff, numbers assumed"


def stand_in_command(device_id: str) -> str:
    """The id the leak's script answers in place of the engine's own close command."""
    return f"CMD-SIM-{device_id}"


def gas_leak(ctx: Context) -> Script:
    """A hose leak in a restaurant kitchen: gas builds past 25 % LEL until the valve is shut.

    Source: assumed (`curves.GAS_*`): a commercial LPG regulator leaking into a ~30 m3 back
    kitchen adds 0.12-0.25 % LEL a second at the low-mounted detector (past 25 % in 1.5-3.5
    min). The detector alarms at 20 % LEL (the onset); the valve closes in answer to a close
    command 60 s later, by the engine's bound; the gas then disperses within a minute or two.
    """

    def valved(venue: Venue) -> bool:
        return any(naming.has_valve(d.location) for d in ctx.devices(venue, DeviceKind.GAS))

    venue = ctx.venue(KITCHENS, {DeviceKind.GAS: 1}, fits=valved)
    device = next(d for d in ctx.devices(venue, DeviceKind.GAS) if naming.has_valve(d.location))
    det = ctx.gas(device)
    u = ctx.rng.uniform
    ambient, rate = u(*curves.GAS_AMBIENT_LEL), u(*curves.GAS_LEAK_RATE)
    cap, fade = u(*curves.GAS_LEAK_CAP), u(*curves.GAS_DISPERSE_S)
    leak = ctx.at(curves.LEAD_IN_S)
    onset = leak + timedelta(seconds=(curves.GAS_ALARM_LEL - ambient) / rate)
    close = onset + timedelta(seconds=curves.GAS_CLOSE_AFTER_S)
    end = close + timedelta(seconds=curves.GAS_AFTER_S)

    def gas(now: datetime) -> float:
        # The valve feeds the leak: once a command has shut it, the gas disperses.
        shut = None if det.closed_at is None else seconds(leak, det.closed_at)
        return ambient + curves.leak_lel(
            seconds(leak, now), rate=rate, cap=cap, closed_s=shut, fade_s=fade
        )

    tl = Timeline(ctx.start, end)
    watch_gas(tl, det, gas)
    tl.once(close, lambda now: det.command(now, stand_in_command(device.device_id)))
    return ctx.script(
        tl.run(), venue=venue, device_ids=(device.device_id,),
        what=f"gas hose leak at {device.location}: past 25 % LEL, the valve shut "
             f"{curves.GAS_CLOSE_AFTER_S:.0f} s after {curves.GAS_ALARM_LEL:.0f} %",
        onset=onset, end=end, expected=Outcome.ALARM, bound_s=curves.GAS_BOUND_S,
        bound=f"alarm within {curves.GAS_BOUND_S} s of the gas reaching "
              f"{curves.GAS_ALARM_LEL:.0f} % LEL",
        source=LEAK_SOURCE, window=curves.GAS_ALARM_WINDOW_S,
    )  # fmt: skip


def cooking_vapour(ctx: Context) -> Script:
    """Flambé: cooking wine on a hot wok, a few seconds of alcohol vapour at the gas detector.

    Source: assumed (`curves.VAPOUR_*`): three puffs in a service, each up to 12-30 % LEL for
    5-20 s and under 5 % again well within a minute; one of them crosses the detector's 20 %
    setpoint, so it alarms and clears within seconds. A nuisance: no alarm, no case.
    """
    venue = ctx.venue(KITCHENS, {DeviceKind.GAS: 1})
    device = ctx.devices(venue, DeviceKind.GAS)[0]
    det = ctx.gas(device)
    u = ctx.rng.uniform
    ambient = u(*curves.GAS_AMBIENT_LEL)
    loud = ctx.rng.randrange(curves.VAPOUR_BURSTS)  # the puff that trips the detector
    puffs: list[tuple[float, float, float, float]] = []  # start s, peak % LEL, hold s, fade s
    start = curves.LEAD_IN_S
    for n in range(curves.VAPOUR_BURSTS):
        peak = u(*curves.VAPOUR_PEAK_LEL) if n != loud else u(*curves.VAPOUR_ALARM_PEAK_LEL)
        puffs.append((start, peak, u(*curves.VAPOUR_HOLD_S), u(*curves.VAPOUR_FADE_S)))
        start += u(*curves.VAPOUR_GAP_S)
    end = ctx.at(puffs[-1][0] + curves.VAPOUR_TAIL_S)

    def gas(now: datetime) -> float:
        t = seconds(ctx.start, now)
        return ambient + sum(
            curves.vapour_lel(t, start=s, peak=p, hold_s=h, fade_s=f) for s, p, h, f in puffs
        )

    tl = Timeline(ctx.start, end)
    watch_gas(tl, det, gas)
    return ctx.script(
        tl.run(), venue=venue, device_ids=(device.device_id,),
        what=f"cooking wine flambéed at {device.location}: {len(puffs)} puffs of alcohol vapour",
        onset=ctx.at(puffs[0][0]), end=end, expected=Outcome.NOTHING, bound_s=None,
        bound="no alarm and no case (a nuisance)", source=VAPOUR_SOURCE,
    )  # fmt: skip
