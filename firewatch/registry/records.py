"""The registry's records (CONTRACT.md section 2) as read from a file, with where they were read.

Values are kept as written: a station's `kind` may be any string here, and validate.py decides
whether the contract allows it. That way a bad value is reported with its row and field instead of
being lost in a conversion.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from enum import StrEnum
from typing import Any, Final, Generic, TypeVar


class Kind(StrEnum):
    """A kind of record; the value is also its table's name."""

    STATION = "station"
    VENUE = "venue"
    DEVICE = "device"

    @property
    def plural(self) -> str:
        """Its key in a JSON document and its word in messages."""
        return f"{self.value}s"


@dataclass(frozen=True, slots=True)
class Station:
    station_id: str
    name: str
    kind: str
    phones: tuple[str, ...]
    lat: float
    lon: float


@dataclass(frozen=True, slots=True)
class Venue:
    venue_id: str
    name: str
    venue_type: str
    category: int
    community: str
    grid: str
    address: str
    lat: float
    lon: float
    station_id: str
    contacts: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Device:
    device_id: str
    kind: str
    venue_id: str
    location: str
    heartbeat_s: int


Record = Station | Venue | Device
R = TypeVar("R", Station, Venue, Device)

COLUMNS: Final[dict[Kind, tuple[str, ...]]] = {
    Kind.STATION: tuple(f.name for f in fields(Station)),
    Kind.VENUE: tuple(f.name for f in fields(Venue)),
    Kind.DEVICE: tuple(f.name for f in fields(Device)),
}
"""The contract's columns (CSV) and keys (JSON) of each kind, in order; the first is the id."""

MAX_INT4: Final = 2**31 - 1

EXPECTED: Final[dict[str, str]] = {
    "lat": "a number from -90 to 90",
    "lon": "a number from -180 to 180",
    "category": "1, 2 or 3",
    "heartbeat_s": f"a whole number of seconds from 1 to {MAX_INT4}",
    "id": "1 to 64 letters, digits, '_' or '-'",
}
"""How messages word what a field must be; parse.py and validate.py both say it."""


@dataclass(frozen=True, slots=True)
class Row(Generic[R]):
    """A record and where it was read, so that every problem can name its file and row."""

    file: str
    row: int | str  # CSV line number (the header is line 1) or a JSON path such as "venues[12]"
    record: R


@dataclass(frozen=True, slots=True)
class Unparsed:
    """A row parse.py could not turn into a record (already reported), known by the id it carried.

    Kept so that a duplicate of it is still found, and a reference to it is not reported twice.
    """

    file: str
    row: int | str
    kind: Kind
    id: str


@dataclass(frozen=True, slots=True)
class Batch:
    """Everything one import read, in reading order."""

    files: tuple[str, ...] = ()
    stations: tuple[Row[Station], ...] = ()
    venues: tuple[Row[Venue], ...] = ()
    devices: tuple[Row[Device], ...] = ()
    unparsed: tuple[Unparsed, ...] = ()

    def rows(self, kind: Kind) -> tuple[Row[Any], ...]:
        """The parsed rows of one kind."""
        by_kind: dict[Kind, tuple[Row[Any], ...]] = {
            Kind.STATION: self.stations,
            Kind.VENUE: self.venues,
            Kind.DEVICE: self.devices,
        }
        return by_kind[kind]


_JSON_PATH: Final = re.compile(r"(\w+)\[(\d+)\]")
_KIND_ORDER: Final = {kind.plural: i for i, kind in enumerate(Kind)}


def reading_order(files: tuple[str, ...], file: str, row: int | str | None) -> tuple[int, int, int]:
    """A sort key that puts rows as they stand in the files ("venues[2]" before "venues[10]").

    >>> sorted([("a", "venues[10]"), ("a", "venues[2]"), ("a", "stations[0]"), ("a", None)],
    ...        key=lambda fr: reading_order(("a",), *fr))
    [('a', None), ('a', 'stations[0]'), ('a', 'venues[2]'), ('a', 'venues[10]')]
    """
    position = files.index(file) if file in files else len(files)
    if row is None:
        return (position, -1, 0)
    if isinstance(row, int):
        return (position, 0, row)
    match = _JSON_PATH.fullmatch(row)
    if match is None:
        return (position, len(_KIND_ORDER), 0)
    return (position, _KIND_ORDER.get(match[1], len(_KIND_ORDER)), int(match[2]))
