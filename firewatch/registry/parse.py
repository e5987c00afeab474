"""Files to records: a JSON document, or CSV files whose header says which kind they hold.

Every problem found on the way is collected; nothing here raises for a bad file.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from firewatch.registry.fields import READERS, FieldReader
from firewatch.registry.phones import mask_phones_in
from firewatch.registry.problems import Problem, one_of
from firewatch.registry.records import COLUMNS, Batch, Device, Kind, Row, Station, Unparsed, Venue

SUFFIXES: Final = (".json", ".csv")
ENCODING: Final = "utf-8-sig"  # spreadsheets save "CSV UTF-8" with a byte-order mark


class _Object(dict[str, Any]):
    """A JSON object that remembers keys it saw twice (json keeps only the last silently)."""

    duplicates: tuple[str, ...] = ()


def _object(pairs: list[tuple[str, Any]]) -> _Object:
    obj = _Object(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        twice: list[str] = []
        for key, _ in pairs:
            if key in seen:
                twice.append(key)
            seen.add(key)
        obj.duplicates = tuple(twice)
    return obj


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not a JSON number")


@dataclass
class _Reading:
    """What the import has read so far."""

    files: list[str] = field(default_factory=list)
    stations: list[Row[Station]] = field(default_factory=list)
    venues: list[Row[Venue]] = field(default_factory=list)
    devices: list[Row[Device]] = field(default_factory=list)
    unparsed: list[Unparsed] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def problem(self, file: str, row: int | str | None, name: str | None, message: str) -> None:
        self.problems.append(Problem(file, row, name, message))

    def add(self, kind: Kind, reader: FieldReader, file: str, row: int | str) -> None:
        record = READERS[kind](reader)
        if reader.problems or reader.incomplete:
            self.problems.extend(reader.problems)
            self.unparsed.append(Unparsed(file, row, kind, getattr(record, COLUMNS[kind][0])))
        elif isinstance(record, Station):
            self.stations.append(Row(file, row, record))
        elif isinstance(record, Venue):
            self.venues.append(Row(file, row, record))
        else:
            self.devices.append(Row(file, row, record))

    def batch(self) -> Batch:
        return Batch(
            tuple(self.files),
            tuple(self.stations),
            tuple(self.venues),
            tuple(self.devices),
            tuple(self.unparsed),
        )


def parse(paths: Sequence[Path | str]) -> tuple[Batch, list[Problem]]:
    """Read every file (a directory stands for its *.json and *.csv files) as one import."""
    reading = _Reading()
    for path in _expand([Path(p) for p in paths], reading):
        name = str(path)
        reading.files.append(name)
        text = _read_text(path, reading)
        if text is None:
            continue
        if _is_json(path, text):
            _parse_json(name, text, reading)
        else:
            _parse_csv(name, text, reading)
    return reading.batch(), reading.problems


def parse_json_text(name: str, text: str) -> tuple[Batch, list[Problem]]:
    """A registry JSON document that did not come from a file (the HTTP API's body)."""
    reading = _Reading()
    reading.files.append(name)
    _parse_json(name, text, reading)
    return reading.batch(), reading.problems


def _expand(paths: Sequence[Path], reading: _Reading) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            found = sorted(
                p for p in path.iterdir() if p.suffix.lower() in SUFFIXES and p.is_file()
            )
            if not found:
                reading.files.append(str(path))
                reading.problem(str(path), None, None, "expected .json or .csv files, found none")
            files.extend(found)
        else:
            files.append(path)
    # The same file named twice (alone and through its directory) would be all duplicates.
    unique: dict[Path, Path] = {}
    for path in files:
        unique.setdefault(path.resolve(), path)
    return list(unique.values())


def _read_text(path: Path, reading: _Reading) -> str | None:
    name = str(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        reading.problem(name, None, None, "no such file")
        return None
    except OSError as exc:
        reading.problem(name, None, None, f"cannot read it: {exc.strerror}")
        return None
    try:
        return data.decode(ENCODING)
    except UnicodeDecodeError as exc:
        reading.problem(
            name,
            None,
            None,
            f"expected UTF-8 text, byte {exc.start} is not (save spreadsheets as 'CSV UTF-8')",
        )
        return None


def _is_json(path: Path, text: str) -> bool:
    if path.suffix.lower() in SUFFIXES:
        return path.suffix.lower() == ".json"
    return text.lstrip()[:1] in ("{", "[")


def _parse_json(name: str, text: str, reading: _Reading) -> None:
    try:
        doc = json.loads(text, object_pairs_hook=_object, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        reading.problem(name, exc.lineno, None, f"malformed JSON: {exc.msg} (column {exc.colno})")
        return
    except (ValueError, RecursionError) as exc:
        reading.problem(name, None, None, f"malformed JSON: {exc}")
        return
    keys = [kind.plural for kind in Kind]
    if not isinstance(doc, _Object):
        reading.problem(name, None, None, f"expected a JSON object with the keys {one_of(keys)}")
        return
    for key, message in _key_problems(doc, keys):
        reading.problem(name, None, key, message)
    for kind in Kind:
        items = doc.get(kind.plural)
        if items is None:
            continue
        if not isinstance(items, list):
            reading.problem(name, kind.plural, None, f"expected a list of {kind.plural}")
            continue
        for index, item in enumerate(items):
            where = f"{kind.plural}[{index}]"
            if not isinstance(item, _Object):
                reading.problem(name, where, None, f"expected a JSON object (one {kind.value})")
                continue
            for key, message in _key_problems(item, COLUMNS[kind]):
                reading.problem(name, where, key, message)
            reader = FieldReader(item, from_text=False, file=name, row=where)
            reading.add(kind, reader, name, where)


def _key_problems(obj: _Object, allowed: Sequence[str]) -> Iterator[tuple[str, str]]:
    """(key, message) for keys given twice or not in the contract."""
    for key in obj.duplicates:
        yield mask_phones_in(key), "given twice in the same object"
    for key in obj:
        if key not in allowed:
            yield mask_phones_in(key), f"unknown key: expected only {', '.join(allowed)}"


@dataclass(frozen=True, slots=True)
class _Header:
    kind: Kind
    columns: list[str]  # as the file has them
    missing: frozenset[str]  # the kind's columns the file lacks, reported once at the header


def _parse_csv(name: str, text: str, reading: _Reading) -> None:
    rows = csv.reader(io.StringIO(text, newline=""), strict=True)
    header: _Header | None = None
    next_line = 1
    try:
        for cells in rows:
            # A quoted value may span lines; a row is known by the line it starts on.
            line, next_line = next_line, rows.line_num + 1
            if not any(c.strip() for c in cells):  # blank lines, and the ",,,," spreadsheets leave
                continue
            if header is None:
                header = _header(name, line, [c.strip() for c in cells], reading)
                if header is None:
                    return
                continue
            _csv_row(name, line, header, cells, reading)
    except csv.Error as exc:
        reading.problem(name, next_line, None, f"malformed CSV: {exc}")
        return
    if header is None:
        reading.problem(name, None, None, "empty: expected a header line and rows")


def _header(name: str, line: int, columns: list[str], reading: _Reading) -> _Header | None:
    """The kind of records the file holds, told by the columns it shares most with one kind."""
    overlap = {kind: len(set(columns) & set(cols)) for kind, cols in COLUMNS.items()}
    best = max(overlap.values())
    winners = [kind for kind, n in overlap.items() if n == best]
    if best == 0 or len(winners) > 1:
        kinds = "; ".join(f"{kind.plural}: {', '.join(cols)}" for kind, cols in COLUMNS.items())
        message = f"cannot tell which records this file holds: expected the columns of {kinds}"
        reading.problem(name, line, None, message)
        return None
    kind = winners[0]
    expected = f"a {kind.value} file has exactly the columns {', '.join(COLUMNS[kind])}"
    seen: set[str] = set()
    for position, column in enumerate(columns, start=1):
        if not column:
            reading.problem(name, line, None, f"column {position} has no name: {expected}")
        elif column in seen:
            reading.problem(name, line, column, "column given twice")
        elif column not in COLUMNS[kind]:
            reading.problem(name, line, mask_phones_in(column), f"unknown column: {expected}")
        seen.add(column)
    missing = frozenset(c for c in COLUMNS[kind] if c not in seen)
    for column in COLUMNS[kind]:
        if column in missing:
            reading.problem(name, line, column, f"missing column: {expected}")
    return _Header(kind, columns, missing)


def _csv_row(name: str, line: int, header: _Header, cells: list[str], reading: _Reading) -> None:
    if len(cells) != len(header.columns):
        reading.problem(
            name,
            line,
            None,
            f"expected {len(header.columns)} values, one per column, got {len(cells)}"
            " (quote values that contain a comma)",
        )
        id_column = COLUMNS[header.kind][0]
        if id_column in header.columns and header.columns.index(id_column) < len(cells):
            row_id = cells[header.columns.index(id_column)].strip()
            reading.unparsed.append(Unparsed(name, line, header.kind, row_id))
        return
    values = dict(zip(header.columns, cells, strict=True))
    reader = FieldReader(values, from_text=True, file=name, row=line, reported=header.missing)
    reading.add(header.kind, reader, name, line)
