"""Whether records are what the contract allows and fit together. Pure: records in, problems out.

References may point at stations and venues already in the database; the caller looks those up
(see `outside_references`) and passes them in, so that nothing here touches the database.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Final

from firewatch.kernel.contract import (
    E164_PATTERN,
    ID_PATTERN,
    INSPECTION_CATEGORIES,
    DeviceKind,
    StationKind,
    VenueType,
)
from firewatch.registry.phones import mask_phone
from firewatch.registry.problems import Problem, one_of, place, shown
from firewatch.registry.records import (
    COLUMNS,
    EXPECTED,
    MAX_INT4,
    Batch,
    Device,
    Kind,
    Row,
    Station,
    Venue,
    reading_order,
)

E164_EXAMPLE: Final = "+86138xxxxxxxx"  # not a real number: messages never show one
MAX_ID_LENGTH: Final = 64  # ID_PATTERN's; longer ids are described by length, not shown


@dataclass(frozen=True, slots=True)
class Existing:
    """Ids already in the database, among those the import refers to without defining them."""

    station_ids: frozenset[str] = frozenset()
    venue_ids: frozenset[str] = frozenset()


def outside_references(batch: Batch) -> Existing:
    """Station and venue ids the batch uses but does not define: the database must have them."""
    stations = _defined(batch, Kind.STATION)
    venues = _defined(batch, Kind.VENUE)
    return Existing(
        frozenset(r.record.station_id for r in batch.venues) - stations,
        frozenset(r.record.venue_id for r in batch.devices) - venues,
    )


def validate(batch: Batch, existing: Existing) -> list[Problem]:
    """Every problem of every record; an empty list means the batch may be written."""
    problems: list[Problem] = []
    for station in batch.stations:
        problems.extend(_station(station))
    for venue in batch.venues:
        problems.extend(_venue(venue))
    for device in batch.devices:
        problems.extend(_device(device))
    problems.extend(_duplicates(batch))
    stations = _defined(batch, Kind.STATION) | existing.station_ids
    venues = _defined(batch, Kind.VENUE) | existing.venue_ids
    for venue in batch.venues:
        if venue.record.station_id not in stations:
            problems.append(_missing_reference(venue, "station_id", venue.record.station_id))
    for device in batch.devices:
        if device.record.venue_id not in venues:
            problems.append(_missing_reference(device, "venue_id", device.record.venue_id))
    return problems


def _station(row: Row[Station]) -> Iterator[Problem]:
    s = row.record
    yield from _id(row, "station_id", s.station_id)
    yield from _member(row, "kind", s.kind, StationKind)
    yield from _phones(row, "phones", s.phones)
    yield from _coordinates(row, s.lat, s.lon)


def _venue(row: Row[Venue]) -> Iterator[Problem]:
    v = row.record
    yield from _id(row, "venue_id", v.venue_id)
    yield from _member(row, "venue_type", v.venue_type, VenueType)
    if v.category not in INSPECTION_CATEGORIES:
        yield _bad(row, "category", v.category)
    yield from _coordinates(row, v.lat, v.lon)
    yield from _phones(row, "contacts", v.contacts)


def _device(row: Row[Device]) -> Iterator[Problem]:
    d = row.record
    yield from _id(row, "device_id", d.device_id)
    yield from _member(row, "kind", d.kind, DeviceKind)
    if not 1 <= d.heartbeat_s <= MAX_INT4:
        yield _bad(row, "heartbeat_s", d.heartbeat_s)


def _bad(row: Row[Station] | Row[Venue] | Row[Device], name: str, value: object) -> Problem:
    return Problem(row.file, row.row, name, f"expected {EXPECTED[name]}, got {shown(value)}")


def _id(row: Row[Station] | Row[Venue] | Row[Device], name: str, value: str) -> Iterator[Problem]:
    if ID_PATTERN.fullmatch(value) is None:
        got = f"{len(value)} characters" if len(value) > MAX_ID_LENGTH else shown(value)
        yield Problem(row.file, row.row, name, f"expected {EXPECTED['id']}, got {got}")


def _member(
    row: Row[Station] | Row[Venue] | Row[Device], name: str, value: str, allowed: Iterable[str]
) -> Iterator[Problem]:
    choices = [str(a) for a in allowed]
    if value in choices:
        return
    close = difflib.get_close_matches(value.lower(), choices, n=1)
    hint = f" (did you mean {close[0]}?)" if close else ""
    yield Problem(row.file, row.row, name, f"expected {one_of(choices)}, got {shown(value)}{hint}")


def _phones(
    row: Row[Station] | Row[Venue], name: str, phones: tuple[str, ...]
) -> Iterator[Problem]:
    for phone in phones:
        if E164_PATTERN.fullmatch(phone) is None:
            # A spreadsheet that took the column for numbers drops the leading +.
            hint = "" if phone.startswith("+") else " (no leading +; keep the column as text)"
            yield Problem(
                row.file,
                row.row,
                name,
                f"expected E.164 numbers such as {E164_EXAMPLE}, no spaces, "
                f"got {mask_phone(phone)!r}{hint}",
            )


def _coordinates(row: Row[Station] | Row[Venue], lat: float, lon: float) -> Iterator[Problem]:
    # Written so that NaN, which compares false with everything, fails too.
    if not -90 <= lat <= 90:
        yield _bad(row, "lat", lat)
    if not -180 <= lon <= 180:
        yield _bad(row, "lon", lon)


def _entries(batch: Batch, kind: Kind) -> list[tuple[str, int | str, str]]:
    """(file, row, id) of every row of a kind, parsed or not, in reading order."""
    id_field = COLUMNS[kind][0]
    entries = [(r.file, r.row, str(getattr(r.record, id_field))) for r in batch.rows(kind)]
    entries += [(u.file, u.row, u.id) for u in batch.unparsed if u.kind == kind and u.id]
    return sorted(entries, key=lambda e: reading_order(batch.files, e[0], e[1]))


def _defined(batch: Batch, kind: Kind) -> frozenset[str]:
    return frozenset(row_id for _, _, row_id in _entries(batch, kind))


def _duplicates(batch: Batch) -> Iterator[Problem]:
    for kind in Kind:
        first: dict[str, tuple[str, int | str]] = {}
        for file, row, row_id in _entries(batch, kind):
            if row_id in first:
                yield Problem(
                    file,
                    row,
                    COLUMNS[kind][0],
                    f"expected each {kind.value} once, got {shown(row_id)} again "
                    f"(first at {place(*first[row_id])})",
                )
            else:
                first[row_id] = (file, row)


def _missing_reference(row: Row[Venue] | Row[Device], name: str, value: str) -> Problem:
    kind = "station" if name == "station_id" else "venue"
    return Problem(
        row.file,
        row.row,
        name,
        f"expected a {kind} of this import or already registered, got {shown(value)}",
    )
