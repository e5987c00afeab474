"""Device liveness: a device silent for 3 of its heartbeat intervals becomes offline.

`update_liveness` in ingest.store keeps `device_liveness` current as messages arrive; this
module finds the devices that went quiet and marks them offline, once, for the alerting stage.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import psycopg

from firewatch.kernel.contract import OFFLINE_AFTER_HEARTBEATS


class OfflineReason(StrEnum):
    SILENT = "silent"
    """Nothing received for 3 heartbeat intervals."""
    NEVER_SEEN = "never_seen"
    """Registered, but no message in 3 heartbeat intervals since it was registered."""
    LAST_WILL = "last_will"
    """The broker published the device's Last Will (`offline` on its availability topic)."""


@dataclass(frozen=True, slots=True)
class WentOffline:
    device_id: str
    kind: str
    venue_id: str
    since: datetime
    """The moment the device should have been heard from: last seen + 3 heartbeats."""
    reason: OfflineReason


_SILENT = f"""
UPDATE device_liveness l
SET online = false,
    offline_since = l.last_seen_at
        + make_interval(secs => {OFFLINE_AFTER_HEARTBEATS} * d.heartbeat_s),
    offline_reason = 'silent'
FROM device d
WHERE d.device_id = l.device_id AND l.online
  AND l.last_seen_at < %(now)s - make_interval(secs => {OFFLINE_AFTER_HEARTBEATS} * d.heartbeat_s)
  AND (%(venues)s::text[] IS NULL OR d.venue_id = ANY(%(venues)s))
RETURNING l.device_id, d.kind, d.venue_id, l.offline_since
"""

_NEVER_SEEN = f"""
WITH marked AS (
    INSERT INTO device_liveness (device_id, online, offline_since, offline_reason)
    SELECT d.device_id, false,
           d.updated_at + make_interval(secs => {OFFLINE_AFTER_HEARTBEATS} * d.heartbeat_s),
           'never_seen'
    FROM device d
    WHERE NOT EXISTS (SELECT 1 FROM device_liveness l WHERE l.device_id = d.device_id)
      AND d.updated_at < %(now)s - make_interval(secs => {OFFLINE_AFTER_HEARTBEATS} * d.heartbeat_s)
      AND (%(venues)s::text[] IS NULL OR d.venue_id = ANY(%(venues)s))
    ON CONFLICT (device_id) DO NOTHING
    RETURNING device_id, offline_since
)
SELECT m.device_id, d.kind, d.venue_id, m.offline_since
FROM marked m JOIN device d USING (device_id)
"""


def sweep(
    conn: psycopg.Connection, now: datetime, venues: Sequence[str] | None = None
) -> list[WentOffline]:
    """Mark the devices that fell silent as offline (in one transaction); return only those
    that changed now, so each outage is reported once. `venues`: only the devices of these
    (an engine partition's own; None: every venue), so that each outage is judged by the
    instance that owns its venue."""
    changes: list[WentOffline] = []
    with conn.transaction():
        for query, reason in (
            (_SILENT, OfflineReason.SILENT),
            (_NEVER_SEEN, OfflineReason.NEVER_SEEN),
        ):
            for device_id, kind, venue_id, since in conn.execute(
                query, {"now": now, "venues": venues}
            ):
                changes.append(WentOffline(device_id, kind, venue_id, since, reason))
    return changes
