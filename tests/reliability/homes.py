"""A station and rented flats with one smoke detector each, written straight to the registry
tables: what the engine-level reliability tests need, without the importer."""

from __future__ import annotations

import psycopg


def seed_homes(url: str, station_id: str, phone: str, homes: dict[str, str]) -> None:
    """`homes`: venue id → its smoke detector's id; every flat answers to `station_id`."""
    with psycopg.connect(url) as conn:
        conn.execute(
            "INSERT INTO station (station_id, name, kind, phones, lat, lon)"
            " VALUES (%s, '微型消防站', 'micro', %s, 31.23, 121.47)",
            (station_id, [phone]),
        )
        for venue_id, device_id in homes.items():
            conn.execute(
                "INSERT INTO venue (venue_id, name, venue_type, category, community, grid,"
                " address, lat, lon, station_id, contacts) VALUES (%s, %s, 'rental_housing', 1,"
                " 'Xinhua', 'G-03', '火警路 1 号', 31.23, 121.47, %s, ARRAY['+8613700000000'])",
                (venue_id, f"出租屋 {venue_id}", station_id),
            )
            conn.execute(
                "INSERT INTO device (device_id, kind, venue_id, location, heartbeat_s)"
                " VALUES (%s, 'smoke', %s, 'bedroom', 3600)",
                (device_id, venue_id),
            )
