"""Who and where: the registry's stations, venues and devices as routing and texts need them.

Read from the registry tables (the composition root's schema) and kept in memory; the stage
reloads it when the registry's fingerprint moves (checked now and then, and at once when it
meets a venue it does not know).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import psycopg

from firewatch.kernel.contract import StationKind


@dataclass(frozen=True, slots=True)
class StationEntry:
    station_id: str
    name: str
    kind: StationKind
    phones: tuple[str, ...]
    lat: float
    lon: float
    retired: bool = False


@dataclass(frozen=True, slots=True)
class VenueEntry:
    venue_id: str
    name: str
    venue_type: str
    community: str
    grid: str
    address: str
    station_id: str
    contacts: tuple[str, ...]
    lat: float
    lon: float


@dataclass(frozen=True, slots=True)
class DeviceEntry:
    device_id: str
    kind: str
    venue_id: str
    location: str  # free text: floor, room, shed


def _km(a: tuple[float, float], b: tuple[float, float]) -> float:
    dy = (a[0] - b[0]) * 111.32
    dx = (a[1] - b[1]) * 111.32 * math.cos(math.radians((a[0] + b[0]) / 2))
    return math.hypot(dx, dy)


@dataclass(frozen=True, slots=True)
class Directory:
    stations: dict[str, StationEntry] = field(default_factory=dict)
    venues: dict[str, VenueEntry] = field(default_factory=dict)
    devices: dict[str, DeviceEntry] = field(default_factory=dict)

    def venue(self, venue_id: str) -> VenueEntry | None:
        return self.venues.get(venue_id)

    def station(self, station_id: str) -> StationEntry | None:
        return self.stations.get(station_id)

    def device(self, device_id: str) -> DeviceEntry | None:
        return self.devices.get(device_id)

    def brigade(self, venue: VenueEntry) -> StationEntry | None:
        """The nearest professional fire brigade (专职消防队) to a venue.

        >>> far = StationEntry("PS-far", "远", StationKind.PROFESSIONAL, (), 31.5, 121.9)
        >>> near = StationEntry("PS-near", "近", StationKind.PROFESSIONAL, (), 31.24, 121.48)
        >>> v = VenueEntry("V", "店", "small_shop", "c", "g", "路", "MS", (), 31.23, 121.47)
        >>> Directory({"PS-far": far, "PS-near": near}).brigade(v).station_id
        'PS-near'
        """
        brigades = [
            s
            for s in self.stations.values()
            if s.kind == StationKind.PROFESSIONAL and not s.retired
        ]
        here = (venue.lat, venue.lon)
        return min(brigades, key=lambda s: (_km(here, (s.lat, s.lon)), s.station_id), default=None)


_FINGERPRINT = """
SELECT (SELECT count(*) FROM device), (SELECT max(updated_at) FROM device),
       (SELECT count(*) FROM venue),  (SELECT max(updated_at) FROM venue),
       (SELECT count(*) FROM station), (SELECT max(updated_at) FROM station)
"""


def fingerprint(conn: psycopg.Connection) -> tuple[object, ...]:
    """Row counts and latest changes of the registry: the directory is reloaded when it moves."""
    row = conn.execute(_FINGERPRINT).fetchone()
    return tuple(row) if row is not None else ()


def load_directory(conn: psycopg.Connection) -> Directory:
    stations = {
        r[0]: StationEntry(r[0], r[1], StationKind(r[2]), tuple(r[3]), r[4], r[5], r[6])
        for r in conn.execute(
            "SELECT station_id, name, kind, phones, lat, lon, retired_at IS NOT NULL FROM station"
        )
    }
    venues = {
        r[0]: VenueEntry(r[0], r[1], r[2], r[3], r[4], r[5], r[6], tuple(r[7]), r[8], r[9])
        for r in conn.execute(
            "SELECT venue_id, name, venue_type, community, grid, address, station_id, contacts,"
            " lat, lon FROM venue"
        )
    }
    devices = {
        r[0]: DeviceEntry(r[0], r[1], r[2], r[3])
        for r in conn.execute("SELECT device_id, kind, venue_id, location FROM device")
    }
    return Directory(stations, venues, devices)
