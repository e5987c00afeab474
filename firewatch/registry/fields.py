"""One row's values to a typed record, noting a problem for every value that does not convert.

CSV gives every value as text; JSON gives typed values, which must already have the right type
(the contract accepts exactly its format). Range and vocabulary checks are validate.py's.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from typing import Final

from firewatch.registry.problems import Problem, shown
from firewatch.registry.records import EXPECTED, Device, Kind, Record, Station, Venue

NUMBER: Final = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")
INTEGER: Final = re.compile(r"[-+]?\d+")
LIST_SEPARATOR: Final = ";"
_ABSENT: Final = object()


def _json_type(value: object) -> str:
    names = {bool: "a boolean", str: "a string", list: "a list", dict: "an object"}
    return "null" if value is None else names.get(type(value), "a number")


class FieldReader:
    """Reads the fields of one row; a field that does not convert gets a placeholder and a problem.

    The placeholder only lets the record be built; a reader with problems means the row is dropped.
    """

    def __init__(
        self,
        values: Mapping[str, object],
        *,
        from_text: bool,
        file: str,
        row: int | str,
        reported: frozenset[str] = frozenset(),
    ) -> None:
        self._values = values
        self._from_text = from_text
        self._file = file
        self._row = row
        # Columns missing from a CSV header were reported once there, not again on every row.
        self._reported = reported
        self.problems: list[Problem] = []
        self.incomplete = False  # a value was missing with its column: the row cannot be checked

    def _problem(self, name: str, message: str) -> None:
        self.problems.append(Problem(self._file, self._row, name, message))

    def _raw(self, name: str, expected: str, *, required: bool = True) -> object:
        """The value, or _ABSENT (with a problem when it was required)."""
        value = self._values.get(name, _ABSENT)
        if isinstance(value, str):
            value = value.strip()
        if value is _ABSENT or value is None or value == "":
            if name in self._reported:
                self.incomplete = True
            elif required:
                self._problem(name, f"missing: expected {expected}")
            return _ABSENT
        return value

    def text(self, name: str, *, required: bool = True) -> str:
        value = self._raw(name, "a non-empty text", required=required)
        if value is _ABSENT:
            return ""
        if not isinstance(value, str):
            self._problem(name, f"expected a string, got {_json_type(value)} {shown(value)}")
            return ""
        if "\x00" in value:
            self._problem(name, "contains a NUL character, which cannot be stored")
            return ""
        return value

    def number(self, name: str) -> float:
        expected = EXPECTED[name]
        value = self._raw(name, expected)
        if value is _ABSENT:
            return math.nan
        if self._from_text and isinstance(value, str) and NUMBER.fullmatch(value):
            return float(value)
        if not self._from_text and isinstance(value, int | float) and not isinstance(value, bool):
            try:
                return float(value)
            except OverflowError:  # a huge JSON integer: out of range, as validate.py will say
                return math.inf
        self._problem(name, f"expected {expected}, got {self._describe(value)}")
        return math.nan

    def integer(self, name: str) -> int:
        expected = EXPECTED[name]
        value = self._raw(name, expected)
        if value is _ABSENT:
            return 0
        if self._from_text and isinstance(value, str) and INTEGER.fullmatch(value):
            return int(value)
        if not self._from_text and isinstance(value, int) and not isinstance(value, bool):
            return value
        self._problem(name, f"expected {expected}, got {self._describe(value)}")
        return 0

    def phones(self, name: str) -> tuple[str, ...]:
        """A list of phone numbers, possibly empty; validate.py checks each is E.164."""
        value = self._raw(name, "phone numbers", required=False)
        if value is _ABSENT:
            return ()
        if isinstance(value, str) and self._from_text:
            return tuple(p.strip() for p in value.split(LIST_SEPARATOR) if p.strip())
        if isinstance(value, list) and all(isinstance(p, str) for p in value):
            return tuple(p.strip() for p in value if p.strip())
        self._problem(
            name, f"expected a list of phone numbers as strings, got {self._describe(value)}"
        )
        return ()

    def _describe(self, value: object) -> str:
        if self._from_text or (isinstance(value, int | float) and not isinstance(value, bool)):
            return shown(value)
        return f"{_json_type(value)} {shown(value)}"


def read_station(f: FieldReader) -> Station:
    return Station(
        station_id=f.text("station_id"),
        name=f.text("name"),
        kind=f.text("kind"),
        phones=f.phones("phones"),
        lat=f.number("lat"),
        lon=f.number("lon"),
    )


def read_venue(f: FieldReader) -> Venue:
    return Venue(
        venue_id=f.text("venue_id"),
        name=f.text("name"),
        venue_type=f.text("venue_type"),
        category=f.integer("category"),
        community=f.text("community"),
        grid=f.text("grid"),
        address=f.text("address"),
        lat=f.number("lat"),
        lon=f.number("lon"),
        station_id=f.text("station_id"),
        contacts=f.phones("contacts"),
    )


def read_device(f: FieldReader) -> Device:
    return Device(
        device_id=f.text("device_id"),
        kind=f.text("kind"),
        venue_id=f.text("venue_id"),
        location=f.text("location", required=False),
        heartbeat_s=f.integer("heartbeat_s"),
    )


READERS: Final[dict[Kind, Callable[[FieldReader], Record]]] = {
    Kind.STATION: read_station,
    Kind.VENUE: read_venue,
    Kind.DEVICE: read_device,
}
