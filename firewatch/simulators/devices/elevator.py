"""A lift-car camera that recognises e-bikes: events only, and a heartbeat.

When it sees an e-bike it reports `ebike_detected` with the car, the floor the car is at, its
confidence and whether it held the door and played the voice warning (`blocked`); when the bike
is wheeled out again, `ebike_left`.

>>> from datetime import UTC, datetime
>>> from random import Random
>>> from firewatch.simulators.devices.base import Profile
>>> t0 = datetime(2026, 5, 1, 4, 0, tzinfo=UTC)
>>> p = Profile(300, 0.0, 0.0, True, False, "EV-AI-3.3.1", None, -70.0)
>>> cam = LiftCamera("ELV-V0001-01", p, Random(1), synced_at=t0, car="1号梯")
>>> cam.detect(t0, floor=12, confidence=0.912, blocked=True).payload
b'{"ts":1777608000000,"seq":0,"event":"ebike_detected","car":"1\\xe5\\x8f\\xb7\\xe6\\xa2\\xaf","floor":12,"confidence":0.91,"blocked":true}'
"""

from __future__ import annotations

from datetime import datetime
from random import Random

from firewatch.kernel.contract import DeviceKind
from firewatch.simulators.devices.base import Device, Profile
from firewatch.simulators.records import Message


class LiftCamera(Device):
    def __init__(
        self, device_id: str, profile: Profile, rng: Random, *, synced_at: datetime, car: str
    ) -> None:
        super().__init__(device_id, DeviceKind.ELEVATOR, profile, rng, synced_at=synced_at)
        self.car = car

    def detect(self, now: datetime, *, floor: int, confidence: float, blocked: bool) -> Message:
        return self.event(
            now,
            "ebike_detected",
            car=self.car,
            floor=floor,
            confidence=round(confidence, 2),
            blocked=blocked,
        )

    def left(self, now: datetime) -> Message:
        return self.event(now, "ebike_left", car=self.car)
