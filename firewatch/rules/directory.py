"""What the rules need to know of the registry: each venue's type (for per-venue-type
overrides and `venue_types`) and each device's heartbeat (for absence beyond 3 heartbeats).

Held as two dicts swapped whole on refresh, so that the ingest thread reading them mid-batch
sees the old registry or the new, never a mix. `refresh` looks at a cheap fingerprint first.

>>> d = Directory({"V-1": "small_restaurant"}, {"SMK-1": 600})
>>> d.venue_types.get("V-1"), d.heartbeat("SMK-1"), d.heartbeat("nope")
('small_restaurant', 600, None)
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

import psycopg

log = logging.getLogger("firewatch.rules")

_FINGERPRINT = """
SELECT (SELECT count(*) FROM device), (SELECT max(updated_at) FROM device),
       (SELECT count(*) FROM venue),  (SELECT max(updated_at) FROM venue)
"""


class Directory:
    __slots__ = ("_fingerprint", "heartbeats", "venue_types")

    def __init__(
        self,
        venue_types: Mapping[str, str] | None = None,
        heartbeats: Mapping[str, int] | None = None,
    ) -> None:
        self.venue_types: dict[str, str] = dict(venue_types or {})
        self.heartbeats: dict[str, int] = dict(heartbeats or {})
        self._fingerprint: tuple[object, ...] | None = None

    def heartbeat(self, device_id: str) -> int | None:
        return self.heartbeats.get(device_id)

    def refresh(self, conn: psycopg.Connection) -> bool:
        """Reload from the registry tables if they changed since the last look."""
        row = conn.execute(_FINGERPRINT).fetchone()
        fingerprint = tuple(row) if row is not None else ()
        if fingerprint == self._fingerprint:
            return False
        venue_types = {v: t for v, t in conn.execute("SELECT venue_id, venue_type FROM venue")}
        heartbeats = {d: h for d, h in conn.execute("SELECT device_id, heartbeat_s FROM device")}
        self.venue_types, self.heartbeats = venue_types, heartbeats
        self._fingerprint = fingerprint
        log.info("rules: registry loaded, %d venues, %d devices", len(venue_types), len(heartbeats))
        return True

    @classmethod
    def load(cls, conn: psycopg.Connection) -> Directory:
        directory = cls()
        directory.refresh(conn)
        return directory
