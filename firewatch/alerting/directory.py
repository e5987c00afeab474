"""Who and where: the registry's stations, venues and devices (the kernel's records,
`firewatch.kernel.registry`) as routing and texts need them.

Read from the registry tables (the composition root's schema) and kept in memory; the stage
reloads it when the registry's fingerprint moves (checked now and then, and at once when it
meets a venue it does not know).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import psycopg

from firewatch.kernel.contract import DeviceKind, StationKind, VenueType
from firewatch.kernel.registry import Device, Station, Venue

log = logging.getLogger("firewatch.alerting")

R = TypeVar("R", Station, Venue, Device)


def _km(a: tuple[float, float], b: tuple[float, float]) -> float:
    dy = (a[0] - b[0]) * 111.32
    dx = (a[1] - b[1]) * 111.32 * math.cos(math.radians((a[0] + b[0]) / 2))
    return math.hypot(dx, dy)


@dataclass(frozen=True, slots=True)
class Directory:
    stations: dict[str, Station] = field(default_factory=dict)
    venues: dict[str, Venue] = field(default_factory=dict)
    devices: dict[str, Device] = field(default_factory=dict)
    retired: frozenset[str] = frozenset()
    """Stations retired from the registry: kept for old alerts' texts, never called."""

    def venue(self, venue_id: str) -> Venue | None:
        return self.venues.get(venue_id)

    def station(self, station_id: str) -> Station | None:
        return self.stations.get(station_id)

    def device(self, device_id: str) -> Device | None:
        return self.devices.get(device_id)

    def brigade(self, venue: Venue) -> Station | None:
        """The nearest professional fire brigade (专职消防队) to a venue.

        >>> far = Station("PS-far", "远", StationKind.PROFESSIONAL, (), 31.5, 121.9)
        >>> near = Station("PS-near", "近", StationKind.PROFESSIONAL, (), 31.24, 121.48)
        >>> v = Venue("V", "店", VenueType.SMALL_SHOP, 2, "c", "g", "路", 31.23, 121.47, "MS", ())
        >>> Directory({"PS-far": far, "PS-near": near}).brigade(v).station_id
        'PS-near'
        >>> both = {"PS-far": far, "PS-near": near}
        >>> Directory(both, retired=frozenset({"PS-near"})).brigade(v).station_id
        'PS-far'
        """
        brigades = [
            s
            for s in self.stations.values()
            if s.kind == StationKind.PROFESSIONAL and s.station_id not in self.retired
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


def _records(rows: Iterable[Any], make: Callable[..., R], what: str) -> dict[str, R]:
    """Each row as its record; a row the registry import would never have written (a value
    outside the contract, written by hand) is logged and left out, not fatal."""
    out: dict[str, R] = {}
    for row in rows:
        try:
            out[row[0]] = make(*row)
        except (TypeError, ValueError) as exc:
            log.error("registry %s %r left out of alerting's directory: %s", what, row[0], exc)
    return out


def load_directory(conn: psycopg.Connection) -> Directory:
    stations = _records(
        conn.execute("SELECT station_id, name, kind, phones, lat, lon FROM station"),
        lambda i, n, k, p, lat, lon: Station(i, n, StationKind(k), tuple(p), lat, lon),
        "station",
    )
    retired = frozenset(
        r[0] for r in conn.execute("SELECT station_id FROM station WHERE retired_at IS NOT NULL")
    )
    venues = _records(
        conn.execute(
            "SELECT venue_id, name, venue_type, category, community, grid, address, lat, lon,"
            " station_id, contacts FROM venue"
        ),
        lambda i, n, t, cat, com, g, a, lat, lon, st, c: Venue(
            i, n, VenueType(t), cat, com, g, a, lat, lon, st, tuple(c)
        ),
        "venue",
    )
    devices = _records(
        conn.execute("SELECT device_id, kind, venue_id, location, heartbeat_s FROM device"),
        lambda i, k, v, loc, hb: Device(i, DeviceKind(k), v, loc, hb),
        "device",
    )
    return Directory(stations, venues, devices, retired)
