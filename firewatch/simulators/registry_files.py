"""The subdistrict as registry files (CONTRACT.md section 2): one JSON document and three CSVs.

`firewatch registry import` reads a directory as all its .json and .csv files together, so the
JSON document and the CSV files go to different places: `DIR/registry.json` and
`DIR/csv/{stations,venues,devices}.csv`. Import either, not both (they hold the same records).
Output is byte-identical for the same subdistrict: fixed key order, fixed float rendering,
`\\n` line ends, UTF-8 without a byte-order mark.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import astuple, fields
from pathlib import Path
from typing import Any, Final

from firewatch.kernel.registry import Device, Station, Venue
from firewatch.simulators.subdistrict import Subdistrict

JSON_NAME: Final = "registry.json"
CSV_DIR: Final = "csv"
CSV_NAMES: Final = {"stations": "stations.csv", "venues": "venues.csv", "devices": "devices.csv"}
LIST_SEPARATOR: Final = ";"


def _value(value: object) -> Any:
    """A record value as JSON: enums by value, tuples as lists."""
    if isinstance(value, tuple):
        return [str(v) for v in value]
    if isinstance(value, str):
        return str(value)  # StrEnum members become plain strings
    return value


def _cell(value: object) -> str:
    if isinstance(value, tuple):
        return LIST_SEPARATOR.join(str(v) for v in value)
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _rows(records: tuple[Station, ...] | tuple[Venue, ...] | tuple[Device, ...]) -> list[Any]:
    return [{f.name: _value(getattr(r, f.name)) for f in fields(r)} for r in records]


def document(world: Subdistrict) -> str:
    """The registry as one JSON document."""
    doc = {
        "stations": _rows(world.stations),
        "venues": _rows(world.venues),
        "devices": _rows(world.devices),
    }
    return json.dumps(doc, ensure_ascii=False, indent=1) + "\n"


def table(records: tuple[Station, ...] | tuple[Venue, ...] | tuple[Device, ...]) -> str:
    """One kind of record as CSV, with the contract's columns in order."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    record_type = type(records[0])
    writer.writerow([f.name for f in fields(record_type)])
    for record in records:
        writer.writerow([_cell(v) for v in astuple(record)])
    return out.getvalue()


def write(world: Subdistrict, out: Path) -> list[Path]:
    """Write the JSON document and the three CSV files under `out`; the paths written."""
    (out / CSV_DIR).mkdir(parents=True, exist_ok=True)
    written = [out / JSON_NAME]
    written[0].write_text(document(world), encoding="utf-8", newline="\n")
    for key, records in (
        ("stations", world.stations),
        ("venues", world.venues),
        ("devices", world.devices),
    ):
        path = out / CSV_DIR / CSV_NAMES[key]
        path.write_text(table(records), encoding="utf-8", newline="\n")
        written.append(path)
    return written
