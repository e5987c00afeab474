"""The registry in memory, for decoding and enrichment without a query per message.

It follows registry changes without a restart: `refresh` looks at a cheap fingerprint of the
three tables (row counts and the latest `updated_at`) and reloads only when it moved.
"""

from __future__ import annotations

import logging

import psycopg

from firewatch.ingest.records import DeviceInfo, VenueInfo
from firewatch.kernel.contract import DeviceKind

log = logging.getLogger("firewatch.ingest")

_FINGERPRINT = """
SELECT (SELECT count(*) FROM device), (SELECT max(updated_at) FROM device),
       (SELECT count(*) FROM venue),  (SELECT max(updated_at) FROM venue),
       (SELECT count(*) FROM station), (SELECT max(updated_at) FROM station)
"""

_DEVICES = """
SELECT d.device_id, d.kind, d.venue_id, v.community, v.grid, v.station_id, d.heartbeat_s
FROM device d JOIN venue v USING (venue_id)
WHERE d.retired_at IS NULL AND v.retired_at IS NULL
"""

_VENUES = "SELECT venue_id, community, grid, station_id FROM venue WHERE retired_at IS NULL"


class RegistryCache:
    """A `RegistryView` loaded from the database."""

    def __init__(self) -> None:
        self._devices: dict[str, DeviceInfo] = {}
        self._venues: dict[str, VenueInfo] = {}
        self._fingerprint: tuple[object, ...] | None = None

    def device(self, device_id: str) -> DeviceInfo | None:
        return self._devices.get(device_id)

    def venue(self, venue_id: str) -> VenueInfo | None:
        return self._venues.get(venue_id)

    def devices(self) -> list[DeviceInfo]:
        return list(self._devices.values())

    def refresh(self, conn: psycopg.Connection) -> bool:
        """Reload if the registry changed since the last look; True when it did."""
        row = conn.execute(_FINGERPRINT).fetchone()
        fingerprint = tuple(row) if row is not None else ()
        if fingerprint == self._fingerprint:
            return False
        venues = {
            venue_id: VenueInfo(venue_id, community, grid, station_id)
            for venue_id, community, grid, station_id in conn.execute(_VENUES)
        }
        devices = {
            device_id: DeviceInfo(
                device_id, DeviceKind(kind), venue_id, community, grid, station_id, heartbeat_s
            )
            for device_id, kind, venue_id, community, grid, station_id, heartbeat_s in conn.execute(
                _DEVICES
            )
        }
        # Swap whole dicts: a reader mid-batch sees the old registry or the new, never a mix.
        self._venues, self._devices = venues, devices
        self._fingerprint = fingerprint
        log.info("registry loaded: %d venues, %d devices", len(venues), len(devices))
        return True
