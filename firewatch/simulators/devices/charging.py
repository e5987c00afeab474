"""E-bike charging stations (ports in sheds) and indoor load detectors (one meter, port 0).

A station's port follows what the plugged-in charger draws (`PortSample`) and protects itself:
above its current limit it trips (`overcurrent`), above its temperature limit it cuts power
(`overtemp`); either way the port reports `fault` and no current until the load is unplugged.
Cutting the power does not stop a pack that is already heating itself: the port goes on
reporting the temperature and off-gas its sensors see.

>>> from datetime import UTC, datetime
>>> from random import Random
>>> from firewatch.simulators.devices.base import Profile
>>> t0 = datetime(2026, 5, 1, 4, 0, tzinfo=UTC)
>>> p = Profile(300, 0.0, 0.0, True, False, "CP-4.1.0", None, -80.0)
>>> s = ChargingStation("CHG-V0001-01", p, Random(1), synced_at=t0, ports=10)
>>> plug = PortSample("charging", power_w=180.0, temp_c=30.0, energy_wh=0.0)
>>> [m.payload.split(b'"event":')[1][:16] for m in s.observe(t0, 3, plug)[:1]]
[b'"charge_started"']
>>> heavy = PortSample("charging", power_w=1650.0, temp_c=31.0, energy_wh=5.0)
>>> [m.payload.split(b'"event":')[1][:13] for m in s.observe(t0, 3, heavy)[:1]], s.state[3]
([b'"overcurrent"'], 'fault')
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

ACTIVE_S: Final = 60.0  # a charging port reports every minute
IDLE_S: Final = 300.0
FAST_S: Final = 5.0  # hot or gassy: every 5 s
FAST_TEMP_C: Final = 45.0
FAST_GAS_PPM: Final = 50.0


@dataclass(frozen=True, slots=True)
class PortSample:
    """What the load on a port does: the charger's state and draw, the pack and the air."""

    state: str  # idle, charging, full (what the charger does; the port may add fault)
    power_w: float = 0.0
    temp_c: float = 25.0
    energy_wh: float | None = None
    co_ppm: float = 0.0
    h2_ppm: float = 0.0
    voc_ppm: float = 0.0


class ChargingStation(Device):
    protects = True  # a station trips on overcurrent and overtemperature; a meter only measures

    def __init__(
        self, device_id: str, profile: Profile, rng: Random, *, synced_at: datetime, ports: int
    ) -> None:
        super().__init__(device_id, DeviceKind.CHARGING, profile, rng, synced_at=synced_at)
        self.ports = tuple(range(1, ports + 1))
        self.has_gas = rng.random() < 0.5  # charging cabinets with off-gas sensors
        self.state = {port: "idle" for port in self.ports}

    def next_at(self, now: datetime, port: int, sample: PortSample) -> datetime:
        gas = max(sample.co_ppm, sample.h2_ppm, sample.voc_ppm) if self.has_gas else 0.0
        if sample.temp_c >= FAST_TEMP_C or gas >= FAST_GAS_PPM:
            pace = FAST_S
        else:
            pace = ACTIVE_S if self.state[port] in ("charging", "fault") else IDLE_S
        return now + timedelta(seconds=pace)

    def observe(self, now: datetime, port: int, load: PortSample) -> list[Message]:
        """The port at `now`: protection and state-change events, then its reading."""
        out: list[Message] = []
        volts = round(curves.MAINS_V + self.rng.gauss(0, 1.5), 1)
        amps = load.power_w / volts
        before = self.state[port]
        if before == "fault" and load.state == "idle":
            before = self.state[port] = "idle"  # unplugged: the port resets
        if before != "fault":
            if self.protects and amps > curves.PORT_LIMIT_A:
                self.state[port] = "fault"
                out.append(self.event(now, "overcurrent", port=port))
            elif self.protects and load.temp_c >= curves.PORT_OVERTEMP_C:
                self.state[port] = "fault"
                out.append(self.event(now, "overtemp", port=port))
            else:
                self.state[port] = load.state
                if self.protects and before == "idle" and load.state == "charging":
                    out.append(self.event(now, "charge_started", port=port))
                if self.protects and before == "charging" and load.state == "full":
                    out.append(self.event(now, "charge_completed", port=port))
        live = self.state[port] != "fault"
        body: Payload = {
            "port": port,
            "state": self.state[port],
            "current_a": round(amps, 3) if live else 0.0,
            "voltage_v": volts,
            "power_w": round(load.power_w, 1) if live else 0.0,
            "temp_c": round(load.temp_c + self.rng.gauss(0, 0.2), 1),
        }
        if load.energy_wh is not None:
            body["energy_wh"] = round(load.energy_wh, 1)
        if self.has_gas:
            g = self.rng.gauss
            body["co_ppm"] = round(max(0.0, load.co_ppm + g(0, 0.5)), 1)
            body["h2_ppm"] = round(max(0.0, load.h2_ppm + g(0, 0.5)), 1)
            body["voc_ppm"] = round(max(0.0, load.voc_ppm + g(0, 0.5)), 1)
        out.append(self.message(now, MessageType.READING, body))
        return out

    def command(self, now: datetime, port: int, command_id: str) -> list[Message]:
        """A `set` command `{"power": "off"}`: cut the port and answer with the command's id."""
        self.state[port] = "fault"
        return [self.event(now, "power_off", port=port, id=command_id)]


class LoadDetector(ChargingStation):
    """An indoor meter (port 0) that recognises an e-bike charger's load signature."""

    protects = False

    def __init__(
        self, device_id: str, profile: Profile, rng: Random, *, synced_at: datetime
    ) -> None:
        super().__init__(device_id, profile, rng, synced_at=synced_at, ports=0)
        self.ports = (0,)
        self.has_gas = False
        self.state = {0: "idle"}

    def recognise(self, now: datetime, confidence: float) -> list[Message]:
        return [self.event(now, "ebike_load_detected", port=0, confidence=round(confidence, 2))]
