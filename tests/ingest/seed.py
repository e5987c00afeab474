"""A small registry written straight to the tables: ingest tests need a registry, not the importer."""

from __future__ import annotations

import psycopg

DEVICES = {
    "SMK-1": ("smoke", "V-HOME"),
    "SMK-2": ("smoke", "V-HOME"),
    "CHG-1": ("charging", "V-SHED"),
    "LIFT-1": ("elevator", "V-TOWER"),
    "OCC-1": ("occupancy", "V-SHOP"),
}


def seed_registry(
    url: str, devices: dict[str, tuple[str, str]] = DEVICES, heartbeat_s: int = 60
) -> None:
    """Stations, venues and devices written straight to the tables: ingest tests need a
    registry, not the importer."""
    with psycopg.connect(url) as conn:
        conn.execute(
            "INSERT INTO station (station_id, name, kind, phones, lat, lon)"
            " VALUES ('MS-1', 'Micro station 1', 'micro', '{+8613800000001}', 31.23, 121.47)"
        )
        for venue_id, venue_type, category in (
            ("V-HOME", "rental_housing", 1),
            ("V-SHED", "ebike_shed", 1),
            ("V-TOWER", "high_rise", 3),
            ("V-SHOP", "small_shop", 2),
        ):
            conn.execute(
                "INSERT INTO venue (venue_id, name, venue_type, category, community, grid, address,"
                " lat, lon, station_id) VALUES (%s, %s, %s, %s, 'Xinhua', 'G-03', 'No. 1 Road',"
                " 31.23, 121.47, 'MS-1')",
                (venue_id, venue_id, venue_type, category),
            )
        for device_id, (kind, venue_id) in devices.items():
            conn.execute(
                "INSERT INTO device (device_id, kind, venue_id, location, heartbeat_s)"
                " VALUES (%s, %s, %s, 'floor 1', %s)",
                (device_id, kind, venue_id, heartbeat_s),
            )
