"""A minimal registry (CONTRACT.md section 2) for generated load devices, so that an engine under
load stores their messages instead of rejecting them as unknown devices.

>>> from firewatch.simulators.load.devices import generate_devices
>>> doc = registry_document(generate_devices(120))
>>> len(doc["stations"]), len(doc["venues"]), len(doc["devices"])
(1, 3, 120)
>>> doc["devices"][0]["venue_id"], doc["devices"][0]["heartbeat_s"]
('LOAD-V0', 300)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from firewatch.kernel.contract import VenueType
from firewatch.simulators.load.devices import LoadDevice

DEVICES_PER_VENUE: Final = 50
CENTRE: Final = (31.2304, 121.4737)
"""Latitude and longitude the fictional venues sit around."""


def registry_document(
    devices: Sequence[LoadDevice], prefix: str = "LOAD", heartbeat_s: int = 300
) -> dict[str, list[dict[str, Any]]]:
    """One micro fire station, a venue per DEVICES_PER_VENUE devices, every device placed."""
    station_id = f"{prefix}-S0"
    lat, lon = CENTRE
    venue_types = list(VenueType)
    venue_count = max(1, -(-len(devices) // DEVICES_PER_VENUE))
    venues = [
        {
            "venue_id": f"{prefix}-V{i}",
            "name": f"Load test venue {i}",
            "venue_type": str(venue_types[i % len(venue_types)]),
            "category": i % 3 + 1,
            "community": f"{prefix} community {i % 8}",
            "grid": f"{prefix}-G{i % 24}",
            "address": f"{i + 1} Load Test Road",
            "lat": round(lat + 0.0004 * (i % 25), 6),
            "lon": round(lon + 0.0004 * (i // 25), 6),
            "station_id": station_id,
            "contacts": [f"+86139{i:08d}"],
        }
        for i in range(venue_count)
    ]
    station = {
        "station_id": station_id,
        "name": "Load test micro fire station",
        "kind": "micro",
        "phones": ["+8613800000000"],
        "lat": lat,
        "lon": lon,
    }
    placed = [
        {
            "device_id": d.device_id,
            "kind": str(d.kind),
            "venue_id": f"{prefix}-V{i // DEVICES_PER_VENUE}",
            "location": f"floor {i % 6 + 1}",
            "heartbeat_s": heartbeat_s,
        }
        for i, d in enumerate(devices)
    ]
    return {"stations": [station], "venues": venues, "devices": placed}
