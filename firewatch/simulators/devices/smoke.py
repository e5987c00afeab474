"""A point smoke detector, multi-criteria (obscuration, heat, CO, humidity), battery or mains.

It samples the air it is given, adds its sensor's noise and faults (a drifting chamber, a stuck
front end), decides its own alarm the way detectors do (two samples in a row over the level,
a raised level while hushed, a fixed heat element) and reports faster while something changes.

>>> from datetime import UTC, datetime, timedelta
>>> from random import Random
>>> from firewatch.simulators.devices.base import Profile
>>> t0 = datetime(2026, 5, 1, 4, 0, tzinfo=UTC)
>>> p = Profile(600, 0.0, 0.0, True, False, "SD-2.4.1", 90.0, -80.0)
>>> d = SmokeDetector("SMK-V0001-01", p, Random(3), synced_at=t0)
>>> smoky = SmokeSample(smoke_obs=30.0, temp_c=24.0, co_ppm=40.0, humidity_pct=50.0)
>>> [m.topic.rsplit("/", 1)[1] for m in d.observe(t0, smoky)], d.alarm
(['reading'], False)
>>> [m.topic.rsplit("/", 1)[1] for m in d.observe(t0 + timedelta(seconds=5), smoky)], d.alarm
(['event', 'reading'], True)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from random import Random
from typing import Final

from firewatch.kernel.contract import DeviceKind, MessageType
from firewatch.simulators import curves
from firewatch.simulators.devices.base import Device, Payload, Profile
from firewatch.simulators.records import Message

QUIET_S: Final = 60.0  # a quiet room: one reading a minute
FAST_S: Final = 5.0  # something is changing: every 5 s, as NB-IoT detectors do on alarm
FAST_HOLD_S: Final = 60.0
FAST_STEP_OBS: Final = 0.5  # %/m between two samples that counts as change
FAST_STEP_C: Final = 1.0
FAST_STEP_CO: Final = 10.0
CONFIRM_SAMPLES: Final = 2  # alarm verification: a lone spike (an insect) does not alarm


@dataclass(frozen=True, slots=True)
class SmokeSample:
    """What the air around the detector really is (before the sensor's own errors)."""

    smoke_obs: float  # %/m
    temp_c: float
    co_ppm: float
    humidity_pct: float


class SmokeDetector(Device):
    def __init__(
        self, device_id: str, profile: Profile, rng: Random, *, synced_at: datetime
    ) -> None:
        super().__init__(device_id, DeviceKind.SMOKE, profile, rng, synced_at=synced_at)
        self.has_co = rng.random() < 0.7
        self.has_humidity = rng.random() < 0.5
        self.alarm = False
        self.silenced = False
        self.chamber_drift = 0.0  # %/m of dust on the chamber's baseline
        self.stuck: SmokeSample | None = None  # a frozen front end repeats this forever
        self.quiet_s = QUIET_S
        self._over = 0
        self._hushed_until: datetime | None = None
        self._fast_until: datetime | None = None
        self._last: SmokeSample | None = None
        self._faulted = False

    # -- sensing ---------------------------------------------------------------------------------

    def sense(self, true: SmokeSample) -> SmokeSample:
        if self.stuck is not None:
            return self.stuck
        g = self.rng.gauss
        return SmokeSample(
            smoke_obs=round(
                min(100.0, max(0.0, true.smoke_obs + self.chamber_drift + g(0, 0.03))), 2
            ),
            temp_c=round(true.temp_c + g(0, 0.1), 1),
            co_ppm=round(max(0.0, true.co_ppm + g(0, 0.5)), 1),
            humidity_pct=round(min(100.0, max(0.0, true.humidity_pct + g(0, 0.5))), 1),
        )

    def next_at(self, now: datetime) -> datetime:
        """When the next reading is due: soon while something changes, else at the quiet pace."""
        fast = self._fast_until is not None and now < self._fast_until
        return now + timedelta(seconds=FAST_S if fast or self.alarm else self.quiet_s)

    def _changing(self, now: datetime, seen: SmokeSample) -> None:
        last = self._last
        if last is not None and (
            abs(seen.smoke_obs - last.smoke_obs) >= FAST_STEP_OBS
            or abs(seen.temp_c - last.temp_c) >= FAST_STEP_C
            or abs(seen.co_ppm - last.co_ppm) >= FAST_STEP_CO
        ):
            self._fast_until = now + timedelta(seconds=FAST_HOLD_S)
        self._last = seen

    # -- deciding and reporting ------------------------------------------------------------------

    def observe(self, now: datetime, true: SmokeSample) -> list[Message]:
        """Sample the air at `now`: alarm transitions as events, then the reading."""
        seen = self.sense(true)
        self._changing(now, seen)
        hushed = self._hushed_until is not None and now < self._hushed_until
        level = curves.HUSH_ALARM_OBS if hushed else curves.SMOKE_ALARM_OBS
        over = seen.smoke_obs >= level or seen.temp_c >= curves.HEAT_ALARM_C
        self._over = self._over + 1 if over else 0
        out: list[Message] = []
        if not self.alarm and self._over >= CONFIRM_SAMPLES:
            # Over the (possibly hush-raised) level twice running: alarm, hushed or not.
            self.alarm, self.silenced = True, False
            out.append(self.event(now, "alarm"))
        clear = seen.smoke_obs < curves.SMOKE_CLEAR_OBS and seen.temp_c < curves.HEAT_ALARM_C - 5
        if (self.alarm or self.silenced) and clear:
            self.alarm = self.silenced = False
            out.append(self.event(now, "alarm_cleared"))
        if self.chamber_drift >= curves.DRIFT_FAULT_OBS and not self._faulted:
            self._faulted = True  # drift compensation has run out: the detector asks for service
            out.append(self.event(now, "fault"))
        out.append(self.message(now, MessageType.READING, self.reading_payload(seen)))
        return out

    def reading_payload(self, seen: SmokeSample) -> Payload:
        body: Payload = {"smoke_obs": seen.smoke_obs, "temp_c": seen.temp_c}
        if self.has_co:
            body["co_ppm"] = seen.co_ppm
        if self.has_humidity:
            body["humidity_pct"] = seen.humidity_pct
        body["alarm"] = self.alarm
        return body

    # -- people and faults -----------------------------------------------------------------------

    def press_test(self, now: datetime) -> list[Message]:
        """The test button: the horn sounds briefly; the detector reports a test, not an alarm."""
        return [self.event(now, "test")]

    def press_hush(self, now: datetime) -> list[Message]:
        """Hush: the horn stops and the alarm level is raised for a while (UL 217 alarm silence)."""
        self._hushed_until = now + timedelta(seconds=curves.HUSH_S)
        if not self.alarm:
            return []
        self.alarm, self.silenced = False, True
        return [self.event(now, "silenced")]

    def remove_from_base(self, now: datetime) -> list[Message]:
        return [self.event(now, "tamper")]
