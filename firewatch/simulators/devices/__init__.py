"""The field devices in software: one small class per kind, payloads from a state and a time.

A device never reads the clock: every method takes the (simulated) time `now`. It keeps what a
real one keeps — its message counter, its drifting clock, its battery, its alarm state — and
answers with `Message` records exactly as the hardware would publish them.
"""

from firewatch.simulators.devices.base import Device, Profile, profile_for
from firewatch.simulators.devices.charging import ChargingStation, LoadDetector, PortSample
from firewatch.simulators.devices.elevator import LiftCamera
from firewatch.simulators.devices.gas import GasDetector
from firewatch.simulators.devices.occupancy import PresenceSensor
from firewatch.simulators.devices.smoke import SmokeDetector, SmokeSample

__all__ = [
    "ChargingStation",
    "Device",
    "GasDetector",
    "LiftCamera",
    "LoadDetector",
    "PortSample",
    "PresenceSensor",
    "Profile",
    "SmokeDetector",
    "SmokeSample",
    "profile_for",
]
