"""The registry's records (CONTRACT.md section 2): stations, venues and devices, declared once.

Fields and their order are the contract's columns. The registry import builds them from files,
the simulators generate them, alerting loads them from the database; a record only ever holds
the contract's kinds and venue types.
"""

from __future__ import annotations

from dataclasses import dataclass

from firewatch.kernel.contract import DeviceKind, StationKind, VenueType


@dataclass(frozen=True, slots=True)
class Station:
    station_id: str
    name: str
    kind: StationKind
    phones: tuple[str, ...]
    lat: float
    lon: float


@dataclass(frozen=True, slots=True)
class Venue:
    venue_id: str
    name: str
    venue_type: VenueType
    category: int  # INSPECTION_CATEGORIES: 1 monthly, 2 quarterly, 3 half-yearly
    community: str  # 居委
    grid: str  # 网格
    address: str
    lat: float
    lon: float
    station_id: str  # the responsible micro fire station (微型消防站)
    contacts: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Device:
    device_id: str
    kind: DeviceKind
    venue_id: str
    location: str  # free text: floor, room, shed
    heartbeat_s: int
