"""The sample subdistrict: size, coverage, sensible placement, valid values, determinism."""

from __future__ import annotations

import csv
import json
import math
from collections import Counter
from pathlib import Path

import pytest

from firewatch.kernel.contract import E164_PATTERN, ID_PATTERN, DeviceKind, StationKind, VenueType
from firewatch.kernel.registry import Station, Venue
from firewatch.simulators import naming, registry_files, subdistrict
from firewatch.simulators.subdistrict import CATEGORY, CENTRE, generate
from tests.simulators.helpers import world

HOUSING = {VenueType.RESIDENTIAL_COMPOUND, VenueType.RENTAL_HOUSING, VenueType.SELF_BUILT_HOUSE}


def _km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance (haversine), independent of the generator's own approximation."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * 6371.0 * math.asin(math.sqrt(h))


def test_it_is_big_enough_and_covers_every_type_kind_and_category() -> None:
    sub = world()
    communities = {v.community for v in sub.venues}
    assert len(communities) >= 8
    grids = Counter(v.community for v in {(v.community, v.grid): v for v in sub.venues}.values())
    assert all(n >= 2 for n in grids.values()), grids
    assert len(sub.venues) >= 300
    assert {v.venue_type for v in sub.venues} == set(VenueType)
    assert {v.category for v in sub.venues} == {1, 2, 3}
    assert len([s for s in sub.stations if s.kind == StationKind.MICRO]) >= 6
    assert len(sub.devices) >= 2000
    assert {d.kind for d in sub.devices} == set(DeviceKind)


def test_category_follows_the_venue_type() -> None:
    for venue in world().venues:
        assert venue.category == CATEGORY[venue.venue_type]
    assert CATEGORY[VenueType.RESIDENTIAL_COMPOUND] == 1
    assert CATEGORY[VenueType.SMALL_RESTAURANT] == 2
    assert CATEGORY[VenueType.FACTORY] == 3


def test_each_venue_is_answered_by_its_nearest_micro_station_and_every_station_serves() -> None:
    sub = world()
    micro = [s for s in sub.stations if s.kind == StationKind.MICRO]
    for venue in sub.venues:
        nearest = min(micro, key=lambda s: _km((s.lat, s.lon), (venue.lat, venue.lon)))
        assert venue.station_id == nearest.station_id, venue.venue_id
    assert {v.station_id for v in sub.venues} == {s.station_id for s in micro}


def test_devices_sit_where_they_belong() -> None:
    sub = world()
    kinds: dict[str, set[DeviceKind]] = {}
    for device in sub.devices:
        kinds.setdefault(device.venue_id, set()).add(device.kind)
    by_type: dict[VenueType, set[DeviceKind]] = {}
    for venue in sub.venues:
        assert DeviceKind.SMOKE in kinds[venue.venue_id], f"{venue.venue_id} has no smoke detector"
        by_type.setdefault(venue.venue_type, set()).update(kinds[venue.venue_id])
    charging = {t for t, k in by_type.items() if DeviceKind.CHARGING in k}
    assert {VenueType.EBIKE_SHED, VenueType.RESIDENTIAL_COMPOUND} <= charging
    assert charging <= HOUSING | {VenueType.EBIKE_SHED, VenueType.FACTORY,
                                  VenueType.CONSTRUCTION_SITE, VenueType.INDUSTRIAL_PARK}  # fmt: skip
    lifts = {t for t, k in by_type.items() if DeviceKind.ELEVATOR in k}
    assert {VenueType.HIGH_RISE, VenueType.RESIDENTIAL_COMPOUND} <= lifts
    assert lifts <= {VenueType.HIGH_RISE, VenueType.RESIDENTIAL_COMPOUND, VenueType.INDUSTRIAL_PARK}
    presence = {t for t, k in by_type.items() if DeviceKind.OCCUPANCY in k}
    assert {VenueType.SMALL_SHOP, VenueType.SMALL_WORKSHOP, VenueType.STREET_SHOP} <= presence
    assert not presence & {VenueType.HIGH_RISE, VenueType.EBIKE_SHED, VenueType.SMALL_SCHOOL}
    sheds = [v for v in sub.venues if v.venue_type == VenueType.EBIKE_SHED]
    assert all(DeviceKind.CHARGING in kinds[v.venue_id] for v in sheds)
    # One gas detector in every small restaurant's kitchen, none elsewhere; about half drive
    # the kitchen's shut-off valve.
    gas = [d for d in sub.devices if d.kind == DeviceKind.GAS]
    restaurants = [v for v in sub.venues if v.venue_type == VenueType.SMALL_RESTAURANT]
    assert sorted(d.venue_id for d in gas) == sorted(v.venue_id for v in restaurants)
    assert all(d.device_id == f"GAS-{d.venue_id}-01" and "后厨" in d.location for d in gas)
    valves = sum(naming.has_valve(d.location) for d in gas)
    assert 0.25 * len(gas) <= valves <= 0.75 * len(gas)


def test_the_gas_detectors_leave_every_other_venue_and_device_as_it_was(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with_gas = generate(3)
    monkeypatch.setattr(subdistrict, "ADDED", {})
    without = generate(3)
    assert with_gas.venues == without.venues and with_gas.stations == without.stations
    assert tuple(d for d in with_gas.devices if d.kind != DeviceKind.GAS) == without.devices


def test_values_are_valid_for_the_contract() -> None:
    sub = world()
    ids = [s.station_id for s in sub.stations] + [v.venue_id for v in sub.venues]
    ids += [d.device_id for d in sub.devices]
    assert len(ids) == len(set(ids))
    assert all(ID_PATTERN.fullmatch(i) for i in ids)
    phones = [p for s in sub.stations for p in s.phones] + [
        p for v in sub.venues for p in v.contacts
    ]
    assert phones and all(E164_PATTERN.fullmatch(p) and p.startswith("+86") for p in phones)
    assert all(v.contacts and v.address and v.name and v.grid for v in sub.venues)
    places: list[Station | Venue] = [*sub.stations, *sub.venues]
    for place in places:
        assert _km((place.lat, place.lon), CENTRE) < 4.0  # around one centre
    assert all(d.heartbeat_s > 0 and d.location for d in sub.devices)


def test_same_seed_same_bytes_other_seed_other_registry(tmp_path: Path) -> None:
    first = registry_files.write(generate(7), tmp_path / "a")
    again = registry_files.write(generate(7), tmp_path / "b")
    other = registry_files.write(generate(8), tmp_path / "c")
    for a, b, c in zip(first, again, other, strict=True):
        assert a.read_bytes() == b.read_bytes(), a.name
        assert a.read_bytes() != c.read_bytes(), a.name


def test_json_and_csv_hold_the_contracts_columns_and_the_same_records(tmp_path: Path) -> None:
    paths = registry_files.write(world(), tmp_path)
    doc = json.loads(paths[0].read_text(encoding="utf-8"))
    columns = {
        "stations": ["station_id", "name", "kind", "phones", "lat", "lon"],
        "venues": ["venue_id", "name", "venue_type", "category", "community", "grid", "address",
                   "lat", "lon", "station_id", "contacts"],
        "devices": ["device_id", "kind", "venue_id", "location", "heartbeat_s"],
    }  # fmt: skip
    for key, path in zip(columns, paths[1:], strict=True):
        rows = list(csv.DictReader(path.read_text(encoding="utf-8").splitlines()))
        assert list(rows[0]) == columns[key]
        assert list(doc[key][0]) == columns[key]
        assert len(rows) == len(doc[key])
    venue = doc["venues"][0]
    row = next(csv.DictReader((tmp_path / "csv" / "venues.csv").read_text("utf-8").splitlines()))
    assert row["contacts"].split(";") == venue["contacts"]
    assert float(row["lat"]) == venue["lat"] and int(row["category"]) == venue["category"]
