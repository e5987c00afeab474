"""A night presence sensor (mmWave or PIR) in a shop, workshop or storeroom.

It reports whether anyone is there, how many, and for how many minutes someone has been there
without moving (`still_minutes`): a sleeper's count climbs all night, a worker's keeps resetting.

>>> from datetime import UTC, datetime
>>> from random import Random
>>> from firewatch.simulators.devices.base import Profile
>>> t0 = datetime(2026, 5, 1, 15, 0, tzinfo=UTC)
>>> p = Profile(600, 0.0, 0.0, False, True, "MMW-1.0.8", None, -90.0)
>>> s = PresenceSensor("OCC-V0001-01", p, Random(1), synced_at=t0)
>>> s.observe(t0, people=1, still_minutes=42).payload
b'{"ts":"2026-05-01T23:00:00.000+08:00","seq":0,"device_id":"OCC-V0001-01","occupied":true,"people":1,"still_minutes":42}'
"""

from __future__ import annotations

from datetime import datetime, timedelta
from random import Random
from typing import Final

from firewatch.kernel.contract import DeviceKind, MessageType
from firewatch.simulators.devices.base import Device, Profile
from firewatch.simulators.records import Message

REPORT_S: Final = 300.0  # every five minutes, and at once when presence changes


class PresenceSensor(Device):
    def __init__(
        self, device_id: str, profile: Profile, rng: Random, *, synced_at: datetime
    ) -> None:
        super().__init__(device_id, DeviceKind.OCCUPANCY, profile, rng, synced_at=synced_at)
        self.occupied = False

    def changed(self, people: int) -> bool:
        """Whether presence flips with `people` (the sensor then reports at once)."""
        return (people > 0) != self.occupied

    def next_at(self, now: datetime) -> datetime:
        return now + timedelta(seconds=REPORT_S)

    def observe(self, now: datetime, *, people: int, still_minutes: int) -> Message:
        self.occupied = people > 0
        body = {
            "occupied": self.occupied,
            "people": people,
            "still_minutes": still_minutes if self.occupied else 0,
        }
        return self.message(now, MessageType.READING, body)
