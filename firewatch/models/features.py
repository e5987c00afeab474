"""Windowed features per device: what every learned model and the fusion look at.

Each device (each port, for charging) keeps a few numbers per channel: a robust baseline (an
EWMA whose steps are clipped to a few deviations, so a fire does not become the new normal), a
robust deviation, and a fast and a slow EWMA whose gap is the rate of rise. From them one
reading gives one feature vector, in the order of `SMOKE_FEATURES` or `CHARGING_FEATURES`.
State is bounded: a fixed handful of floats per channel, whatever the history.

Time is the device's own (`Reading.ts`): rates stay right however late a reading arrives.

>>> from datetime import UTC, datetime, timedelta
>>> from firewatch.kernel.contract import DeviceKind
>>> from firewatch.ingest.records import Reading
>>> t0 = datetime(2026, 5, 1, 2, 0, tzinfo=UTC)
>>> def smoke(s: float, obs: float, temp: float) -> Reading:
...     at = t0 + timedelta(seconds=s)
...     return Reading(at, at, "SMK-1", DeviceKind.SMOKE, "V-1", "C", "G", "MS", int(s),
...                    smoke_obs=obs, temp_c=temp, alarm=False)
>>> tracker = FeatureTracker()
>>> for s in range(0, 600, 60):
...     _ = tracker.update(smoke(s, 0.2, 22.0))
>>> row = tracker.update(smoke(560, 14.0, 31.0))  # 20 s after the last one
>>> named = dict(zip(SMOKE_FEATURES, row))
>>> round(named["smoke_rise"], 1), round(named["heat_rise"], 1), named["heat_rate"] > 8.3
(13.8, 9.0, True)
"""

from __future__ import annotations

import math
from typing import Final

from firewatch.ingest.records import Reading
from firewatch.kernel.contract import DeviceKind

SMOKE_FEATURES: Final = (
    "smoke_rise",  # %/m over the device's baseline
    "smoke_persist",  # the smaller rise of this and the previous reading: a lone spike is ~0
    "smoke_rate",  # %/m per minute (fast minus slow EWMA)
    "smoke_elevated_s",  # seconds the smoke has stayed above its baseline
    "heat_rise",  # °C over baseline
    "heat_rate",  # °C per minute
    "co_rise",  # ppm over baseline (0 without a CO cell)
    "co_rate",  # ppm per minute
    "humidity_rise",  # % RH over baseline (steam)
    "humidity",  # % RH now (0 without a humidity cell)
)
CHARGING_FEATURES: Final = (
    "surface_c",  # °C at the socket or battery surface
    "heat_rise",  # °C over this port's baseline
    "heat_rate",  # °C per minute
    "power_dev",  # |power - its slow EWMA| / max(slow EWMA, 20 W)
    "current_a",
    "voc_rise",  # off-gas ppm over baseline (hydrocarbons lead a thermal runaway)
    "co_rise",
    "h2_rise",
    "gas_rate",  # the fastest off-gas rise, ppm per minute
    "port_fault",  # 1 while the port reports `fault` (it tripped or cut power)
)
FEATURES: Final[dict[DeviceKind, tuple[str, ...]]] = {
    DeviceKind.SMOKE: SMOKE_FEATURES,
    DeviceKind.CHARGING: CHARGING_FEATURES,
}
"""The kinds that carry a fire signal, with their feature names; the others are not scored."""

BASE_TAU_S: Final = 3600.0  # the baseline follows slow change (dust, seasons) over hours
FAST_TAU_S: Final = 5.0
SLOW_TAU_S: Final = 30.0
CLIP: Final = 3.0  # a baseline step is at most this many deviations
WARM_UP: Final = 5  # readings before the baseline is trusted to be slow
ELEVATED_OBS: Final = 1.0  # %/m above baseline that counts as "smoke is up"

# Deviation floors: below these a change is sensor noise, not a signal.
FLOOR: Final = {"smoke": 0.2, "temp": 0.3, "co": 1.0, "humidity": 1.0, "power": 5.0, "gas": 1.0}


class Channel:
    """One metric of one device: robust baseline, robust deviation, and rate of rise.

    >>> ch = Channel(floor=0.3)
    >>> [round(ch.update(t, 20.0), 2) for t in (0.0, 60.0, 120.0)]
    [0.0, 0.0, 0.0]
    >>> round(ch.update(130.0, 30.0), 1), round(ch.rate, 1) > 8.3
    (10.0, True)
    """

    __slots__ = ("base", "dev", "fast", "floor", "last_t", "n", "rate", "slow")

    def __init__(self, floor: float) -> None:
        self.floor = floor
        self.n = 0
        self.base = self.dev = self.fast = self.slow = self.rate = 0.0
        self.last_t = 0.0

    def update(self, t: float, x: float) -> float:
        """Take the value `x` at `t` seconds; return its rise over the baseline before it."""
        if self.n == 0:
            self.n = 1
            self.base = self.fast = self.slow = x
            self.dev = self.floor
            self.last_t = t
            return 0.0
        dt = t - self.last_t
        dt = max(dt, 0.5)  # same-second or out-of-order readings still count, a little
        self.last_t = t
        self.n += 1
        rise = x - self.base
        a_fast = 1.0 - math.exp(-dt / FAST_TAU_S)
        a_slow = 1.0 - math.exp(-dt / SLOW_TAU_S)
        self.fast += a_fast * (x - self.fast)
        self.slow += a_slow * (x - self.slow)
        self.rate = (self.fast - self.slow) * 60.0 / (SLOW_TAU_S - FAST_TAU_S)
        a_base = 1.0 / self.n if self.n <= WARM_UP else 1.0 - math.exp(-dt / BASE_TAU_S)
        dev = self.dev if self.dev > self.floor else self.floor
        step = rise if -CLIP * dev <= rise <= CLIP * dev else math.copysign(CLIP * dev, rise)
        self.base += a_base * step
        self.dev += a_base * (min(abs(rise), CLIP * dev) - self.dev)
        return rise

    def z(self, rise: float) -> float:
        """The rise in robust deviations (the mean absolute deviation is ~0.8 sigma)."""
        return rise / (1.25 * max(self.dev, self.floor))


class _SmokeState:
    __slots__ = ("co", "elevated_since", "heat", "humidity", "last_rise", "smoke")

    def __init__(self) -> None:
        self.smoke = Channel(FLOOR["smoke"])
        self.heat = Channel(FLOOR["temp"])
        self.co = Channel(FLOOR["co"])
        self.humidity = Channel(FLOOR["humidity"])
        self.last_rise = 0.0
        self.elevated_since: float | None = None


class _PortState:
    __slots__ = ("co", "h2", "heat", "power", "voc")

    def __init__(self) -> None:
        self.heat = Channel(FLOOR["temp"])
        self.power = Channel(FLOOR["power"])
        self.voc = Channel(FLOOR["gas"])
        self.co = Channel(FLOOR["gas"])
        self.h2 = Channel(FLOOR["gas"])


class FeatureTracker:
    """Per-device state for every scored kind; `update` turns one reading into its features."""

    __slots__ = ("_ports", "_smoke")

    def __init__(self) -> None:
        self._smoke: dict[str, _SmokeState] = {}
        self._ports: dict[tuple[str, int], _PortState] = {}

    def __len__(self) -> int:
        return len(self._smoke) + len(self._ports)

    def update(self, r: Reading) -> list[float] | None:
        """The reading's feature vector (see `FEATURES[r.kind]`), or None for unscored kinds."""
        if r.kind is DeviceKind.SMOKE:
            return self._smoke_row(r)
        if r.kind is DeviceKind.CHARGING:
            return self._port_row(r)
        return None

    def baseline_z(self, r: Reading) -> tuple[str, float]:
        """The metric of `r`'s device furthest from its baseline now, and by how many deviations.

        Call after `update(r)`; it reads the state the reading left behind.
        """
        pairs: tuple[tuple[str, Channel, float | None], ...]
        if r.kind is DeviceKind.SMOKE:
            s = self._smoke.get(r.device_id)
            if s is None:
                return "", 0.0
            pairs = (
                ("smoke_obs", s.smoke, r.smoke_obs),
                ("temp_c", s.heat, r.temp_c),
                ("co_ppm", s.co, r.co_ppm),
                ("humidity_pct", s.humidity, r.humidity_pct),
            )
        else:
            p = self._ports.get((r.device_id, r.port or 0))
            if p is None:
                return "", 0.0
            pairs = (("temp_c", p.heat, r.temp_c), ("power_w", p.power, r.power_w),
                     ("voc_ppm", p.voc, r.voc_ppm), ("co_ppm", p.co, r.co_ppm),
                     ("h2_ppm", p.h2, r.h2_ppm))  # fmt: skip
        best, worst = "", 0.0
        for name, ch, value in pairs:
            if value is None or ch.n <= WARM_UP:
                continue
            z = ch.z(value - ch.base)
            if z > worst:
                best, worst = name, z
        return best, worst

    def _smoke_row(self, r: Reading) -> list[float]:
        s = self._smoke.get(r.device_id)
        if s is None:
            s = self._smoke[r.device_id] = _SmokeState()
        t = r.ts.timestamp()
        obs = r.smoke_obs if r.smoke_obs is not None else 0.0
        rise = s.smoke.update(t, obs)
        persist = rise if rise < s.last_rise else s.last_rise
        s.last_rise = rise
        if rise >= ELEVATED_OBS:
            if s.elevated_since is None:
                s.elevated_since = t
            elevated = t - s.elevated_since
        else:
            s.elevated_since = None
            elevated = 0.0
        heat = heat_rate = co = co_rate = humid = humid_rise = 0.0
        if r.temp_c is not None:
            heat = s.heat.update(t, r.temp_c)
            heat_rate = s.heat.rate
        if r.co_ppm is not None:
            co = s.co.update(t, r.co_ppm)
            co_rate = s.co.rate
        if r.humidity_pct is not None:
            humid = r.humidity_pct
            humid_rise = s.humidity.update(t, humid)
        return [rise, persist, s.smoke.rate, elevated, heat, heat_rate, co, co_rate,
                humid_rise, humid]  # fmt: skip

    def _port_row(self, r: Reading) -> list[float]:
        key = (r.device_id, r.port or 0)
        p = self._ports.get(key)
        if p is None:
            p = self._ports[key] = _PortState()
        t = r.ts.timestamp()
        surface = heat = heat_rate = 0.0
        if r.temp_c is not None:
            surface = r.temp_c
            heat = p.heat.update(t, surface)
            heat_rate = p.heat.rate
        power = r.power_w or 0.0
        p.power.update(t, power)
        slow = p.power.slow
        power_dev = abs(power - slow) / (slow if slow > 20.0 else 20.0)
        voc = p.voc.update(t, r.voc_ppm) if r.voc_ppm is not None else 0.0
        co = p.co.update(t, r.co_ppm) if r.co_ppm is not None else 0.0
        h2 = p.h2.update(t, r.h2_ppm) if r.h2_ppm is not None else 0.0
        gas_rate = max(p.voc.rate, p.co.rate, p.h2.rate)
        fault = 1.0 if r.state == "fault" else 0.0
        return [surface, heat, heat_rate, power_dev, r.current_a or 0.0, voc, co, h2,
                gas_rate, fault]  # fmt: skip
