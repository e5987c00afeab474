"""A fictional subdistrict (街道) around one centre, generated from a seed: its registry.

Nine residents' committees (居委) on a 3 x 3 block plan, four grids (网格) each; venues of every
type spread over the grids; micro fire stations (微型消防站) spread over the plan, each venue
answered by the nearest one; devices placed where they belong (smoke detectors everywhere,
charging in sheds and housing, lift cameras in buildings with lifts, night presence sensors in
the small shops and workshops where people sleep where they must not — 三合一 — and a
combustible-gas detector in every small restaurant's kitchen, about half of them wired to the
emergency shut-off valve).

>>> world = generate(seed=1)
>>> len(world.venues) >= 300, len(world.devices) >= 2000, world == generate(seed=1)
(True, True, True)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from random import Random
from typing import Final

from firewatch.kernel.contract import DeviceKind, StationKind, VenueType
from firewatch.kernel.registry import Device, Station, Venue
from firewatch.simulators import naming

CENTRE: Final = (31.23, 121.47)  # lat, lon: a fictional subdistrict in central Shanghai
BLOCK_KM: Final = 1.1  # one residents' committee's block
KM_LAT: Final = 1 / 111.32
KM_LON: Final = 1 / (111.32 * math.cos(math.radians(CENTRE[0])))
MICRO_STATIONS: Final = 7

HEARTBEAT_S: Final[dict[DeviceKind, int]] = {
    DeviceKind.SMOKE: 600,
    DeviceKind.CHARGING: 300,
    DeviceKind.ELEVATOR: 300,  # events are rare: the heartbeat is its only sign of life
    DeviceKind.OCCUPANCY: 600,
    DeviceKind.GAS: 300,  # mains powered; it reads every minute anyway
}

CATEGORY: Final[dict[VenueType, int]] = {
    **{t: 2 for t in VenueType},  # street shops and 九小场所: quarterly
    VenueType.RESIDENTIAL_COMPOUND: 1,  # housing: monthly
    VenueType.RENTAL_HOUSING: 1,
    VenueType.SELF_BUILT_HOUSE: 1,
    VenueType.EBIKE_SHED: 1,  # sheds belong to the housing around them
    VenueType.FACTORY: 3,  # factories, sites, big buildings: half-yearly
    VenueType.CONSTRUCTION_SITE: 3,
    VenueType.HIGH_RISE: 3,
    VenueType.UNDERGROUND_SPACE: 3,
    VenueType.INDUSTRIAL_PARK: 3,
}

_S, _C, _E, _O = DeviceKind.SMOKE, DeviceKind.CHARGING, DeviceKind.ELEVATOR, DeviceKind.OCCUPANCY
PLAN: Final[dict[VenueType, tuple[int, dict[DeviceKind, tuple[int, int]]]]] = {
    # venue type: (how many venues, {device kind: (min, max) per venue})
    VenueType.RESIDENTIAL_COMPOUND: (40, {_S: (10, 20), _C: (1, 2), _E: (2, 8)}),
    VenueType.RENTAL_HOUSING: (40, {_S: (2, 6), _C: (1, 3)}),
    VenueType.SELF_BUILT_HOUSE: (30, {_S: (2, 4), _C: (1, 2), _O: (0, 1)}),
    VenueType.STREET_SHOP: (40, {_S: (1, 2), _O: (1, 1)}),
    VenueType.SMALL_SHOP: (35, {_S: (1, 3), _O: (1, 2)}),
    VenueType.SMALL_RESTAURANT: (30, {_S: (2, 4), _O: (0, 1)}),
    VenueType.SMALL_HOTEL: (12, {_S: (6, 15)}),
    VenueType.SMALL_ENTERTAINMENT: (10, {_S: (3, 8)}),
    VenueType.SMALL_INTERNET_CAFE: (8, {_S: (3, 6)}),
    VenueType.SMALL_BEAUTY_BATH: (10, {_S: (2, 5), _O: (0, 1)}),
    VenueType.SMALL_WORKSHOP: (25, {_S: (2, 5), _O: (1, 2)}),
    VenueType.SMALL_SCHOOL: (8, {_S: (4, 10)}),
    VenueType.SMALL_CLINIC: (8, {_S: (3, 6)}),
    VenueType.FACTORY: (12, {_S: (8, 20), _C: (0, 2), _O: (0, 1)}),
    VenueType.CONSTRUCTION_SITE: (8, {_S: (2, 6), _C: (1, 1)}),
    VenueType.HIGH_RISE: (15, {_S: (15, 30), _E: (2, 6)}),
    VenueType.UNDERGROUND_SPACE: (8, {_S: (4, 10)}),
    VenueType.INDUSTRIAL_PARK: (4, {_S: (15, 30), _C: (1, 3), _E: (0, 4)}),
    VenueType.EBIKE_SHED: (30, {_S: (1, 2), _C: (1, 3)}),
}
ADDED: Final[dict[VenueType, dict[DeviceKind, tuple[int, int]]]] = {
    # Kinds placed after the first plan (contract v1.1), drawn from a generator of their own so
    # that every venue and device of the first plan stays as it was for the same seed.
    VenueType.SMALL_RESTAURANT: {DeviceKind.GAS: (1, 1)},  # 餐饮场所用气: one in the kitchen
}
PREFIX: Final = {_S: "SMK", _C: "CHG", _E: "ELV", _O: "OCC", DeviceKind.GAS: "GAS"}


@dataclass(frozen=True, slots=True)
class Subdistrict:
    seed: int
    stations: tuple[Station, ...]
    venues: tuple[Venue, ...]
    devices: tuple[Device, ...]

    def venue(self, venue_id: str) -> Venue:
        return next(v for v in self.venues if v.venue_id == venue_id)

    def devices_of(self, venue_id: str, kind: DeviceKind | None = None) -> tuple[Device, ...]:
        return tuple(
            d for d in self.devices if d.venue_id == venue_id and (kind is None or d.kind == kind)
        )


def _point(rng: Random, col: float, row: float, spread: float) -> tuple[float, float]:
    """A point `spread` blocks around block (col, row) of the plan, centred on CENTRE."""
    x = (col - 1 + rng.uniform(-spread, spread)) * BLOCK_KM
    y = (row - 1 + rng.uniform(-spread, spread)) * BLOCK_KM
    return round(CENTRE[0] + y * KM_LAT, 6), round(CENTRE[1] + x * KM_LON, 6)


def _km2(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Squared distance in km (equirectangular: exact enough over a few kilometres)."""
    return ((a[0] - b[0]) / KM_LAT) ** 2 + ((a[1] - b[1]) / KM_LON) ** 2


def _stations(rng: Random) -> list[Station]:
    blocks = rng.sample(range(9), MICRO_STATIONS)
    stations = []
    for n, block in enumerate(sorted(blocks), start=1):
        lat, lon = _point(rng, block % 3, block // 3, 0.2)
        name = f"{naming.community_name(block).removesuffix('居委')}微型消防站"
        phones: tuple[str, ...] = (naming.mobile(rng), naming.mobile(rng), naming.landline(rng))
        stations.append(Station(f"MS{n:02d}", name, StationKind.MICRO, phones, lat, lon))
    lat, lon = _point(rng, 2.6, 1.0, 0.05)  # the professional team sits at the edge
    phones = (naming.landline(rng), naming.landline(rng))
    team = f"{naming.SUBDISTRICT}专职消防队"
    stations.append(Station("PS01", team, StationKind.PROFESSIONAL, phones, lat, lon))
    return stations


def _nearest_micro(stations: list[Station], lat: float, lon: float) -> str:
    micro = [s for s in stations if s.kind == StationKind.MICRO]
    return min(micro, key=lambda s: (_km2((s.lat, s.lon), (lat, lon)), s.station_id)).station_id


def generate(seed: int) -> Subdistrict:
    """The whole registry for `seed`; the same seed always gives the same records."""
    rng = Random(f"subdistrict:{seed}")  # noqa: S311 - a seeded simulation, not secrets
    added = Random(f"subdistrict:{seed}:v1.1")  # noqa: S311 - the kinds of ADDED
    stations = _stations(rng)
    roads = [naming.roads(rng, 2) for _ in range(9)]
    venues: list[Venue] = []
    devices: list[Device] = []
    for venue_type, (count, kinds) in PLAN.items():
        for _ in range(count):
            block = rng.randrange(9)
            grid = rng.randrange(4)  # 2 x 2 grids per block
            col = block % 3 + (grid % 2 - 0.5) * 0.5
            row = block // 3 + (grid // 2 - 0.5) * 0.5
            lat, lon = _point(rng, col, row, 0.24)
            community = naming.community_name(block)
            venue = Venue(
                venue_id=f"V{len(venues) + 1:04d}",
                name=naming.venue_name(rng, venue_type, community),
                venue_type=venue_type,
                category=CATEGORY[venue_type],
                community=community,
                grid=naming.grid_name(block, grid + 1),
                address=naming.address(rng, rng.choice(roads[block]), venue_type),
                lat=lat,
                lon=lon,
                station_id=_nearest_micro(stations, lat, lon),
                contacts=tuple(naming.mobile(rng) for _ in range(rng.randint(1, 2))),
            )
            venues.append(venue)
            devices.extend(_devices(rng, venue, kinds))
            devices.extend(_devices(added, venue, ADDED.get(venue_type, {})))
    return Subdistrict(seed, tuple(stations), tuple(venues), tuple(devices))


def _devices(rng: Random, venue: Venue, kinds: dict[DeviceKind, tuple[int, int]]) -> list[Device]:
    out = []
    for kind, (low, high) in kinds.items():
        for n in range(1, rng.randint(low, high) + 1):
            out.append(
                Device(
                    device_id=f"{PREFIX[kind]}-{venue.venue_id}-{n:02d}",
                    kind=kind,
                    venue_id=venue.venue_id,
                    location=naming.location(rng, kind, venue.venue_type, n),
                    heartbeat_s=HEARTBEAT_S[kind],
                )
            )
    return out
