"""Shared pieces of the cases tests: a small registry, scans and evidence made by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg

from firewatch.cases.records import Actor, Role
from firewatch.ingest.records import ScanItem, VenueScan
from firewatch.kernel.contract import Level
from firewatch.rules.evidence import Category, Evidence, ReadingRef, Scope

T0 = datetime(2026, 5, 4, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai

ADMIN = Actor("u-admin", Role.ADMIN)
OPERATOR = Actor("u-op", Role.OPERATOR)
STATION = Actor("u-ms1", Role.STATION)
INSPECTOR = Actor("u-insp", Role.INSPECTOR)
POLICE = Actor("u-police", Role.DEPARTMENT, "police_station")
MARKET = Actor("u-market", Role.DEPARTMENT, "market_supervision")
VIEWER = Actor("u-view", Role.VIEWER)

VENUES = {
    # venue: (community, grid, category)
    "V-SHOP": ("梅园", "G-1", 2),
    "V-HOME": ("梅园", "G-1", 1),
    "V-FLAT": ("松林", "G-2", 1),
    "V-FACT": ("松林", "G-3", 3),
}
DEVICES = {
    "CHG-1": ("charging", "V-HOME"),
    "SMK-1": ("smoke", "V-FLAT"),
    "SMK-2": ("smoke", "V-SHOP"),
}


def seed(url: str) -> None:
    """Two communities (梅园, 松林), four venues of three categories, three devices."""
    with psycopg.connect(url) as conn:
        conn.execute(
            "INSERT INTO station (station_id, name, kind, phones, lat, lon)"
            " VALUES ('MS-1', '微型消防站一', 'micro', '{+8613800000001}', 31.23, 121.47)"
        )
        for venue_id, (community, grid, category) in VENUES.items():
            conn.execute(
                "INSERT INTO venue (venue_id, name, venue_type, category, community, grid,"
                " address, lat, lon, station_id) VALUES (%s, %s, 'small_shop', %s, %s, %s,"
                " '长乐路 1 号', 31.23, 121.47, 'MS-1')",
                (venue_id, f"{venue_id} 店", category, community, grid),
            )
        for device_id, (kind, venue_id) in DEVICES.items():
            conn.execute(
                "INSERT INTO device (device_id, kind, venue_id, location, heartbeat_s)"
                " VALUES (%s, %s, %s, '一楼', 60)",
                (device_id, kind, venue_id),
            )


def scan(
    venue_id: str,
    at: datetime,
    seq: int,
    failed: tuple[str, ...] = (),
    ok: tuple[str, ...] = ("gas_safe",),
    *,
    scan_type: str = "inspection",
    case_id: str | None = None,
    inspector: str = "INSP-7",
) -> VenueScan:
    community, grid, _ = VENUES[venue_id]
    items = tuple(ScanItem(i, False, f"现场: {i}") for i in failed) + tuple(
        ScanItem(i, True) for i in ok
    )
    return VenueScan(
        at,
        at + timedelta(seconds=1),
        venue_id,
        community,
        grid,
        "MS-1",
        seq,
        scan_type,
        inspector,
        items,
        case_id,
    )


def evidence(
    venue_id: str,
    at: datetime,
    hazard: str | None = "indoor_ebike_charging",
    *,
    category: Category = Category.HAZARD,
    rule_id: str = "indoor_charging",
    device_id: str = "CHG-1",
) -> Evidence:
    return Evidence(
        rule_id=rule_id,
        rule_version=1,
        category=category,
        level=Level.YELLOW,
        scope=Scope.DEVICE,
        subject_id=device_id,
        venue_id=venue_id,
        device_ids=(device_id,),
        at=at,
        summary=f"{hazard} at {venue_id}",
        readings=(ReadingRef(device_id, at, 7, "event", "ebike_load_detected"),),
        hazard=hazard,
    )
