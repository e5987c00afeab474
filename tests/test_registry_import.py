"""`firewatch registry import` against a real PostgreSQL: all or nothing, every problem named."""

from __future__ import annotations

import csv
import io
import json
import shutil
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import psycopg
import pytest

from firewatch.kernel import registry as kernel
from firewatch.kernel.contract import DeviceKind, StationKind, VenueType
from firewatch.registry import Counts, ImportReport, import_registry
from firewatch.registry.errors import RegistryImportError
from firewatch.registry.records import COLUMNS, Kind

FIXTURES = Path(__file__).parent / "fixtures" / "registry"
VALID_JSON = FIXTURES / "valid.json"
CSV_DIR = FIXTURES / "csv"

TABLES = {
    "station": ("station_id", "name", "kind", "phones", "lat", "lon"),
    "venue": (
        "venue_id",
        "name",
        "venue_type",
        "category",
        "community",
        "grid",
        "address",
        "lat",
        "lon",
        "station_id",
        "contacts",
    ),
    "device": ("device_id", "kind", "venue_id", "location", "heartbeat_s"),
}
Rows = dict[str, list[tuple[Any, ...]]]
"""Table name to its rows."""

ALL_NEW = ImportReport(Counts(3), Counts(19), Counts(28))
ALL_UNCHANGED = ImportReport(Counts(unchanged=3), Counts(unchanged=19), Counts(unchanged=28))


# --- helpers -------------------------------------------------------------------------------------


def contents(conn: psycopg.Connection, *, with_updated_at: bool = False) -> Rows:
    """Every row of the registry tables, ordered by id."""
    out = {}
    for table, columns in TABLES.items():
        cols = ", ".join(columns + (("updated_at",) if with_updated_at else ()))
        out[table] = conn.execute(f"SELECT {cols} FROM {table} ORDER BY 1").fetchall()
    return out


def expected_contents(doc: Mapping[str, Any]) -> Rows:
    """The rows a JSON document should become, worked out without the importer."""
    out = {}
    for table, columns in TABLES.items():
        rows = [tuple(record.get(c, "") for c in columns) for record in doc[f"{table}s"]]
        out[table] = sorted(rows)
    return out


def valid_doc() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(VALID_JSON.read_text(encoding="utf-8"))
    return doc


def write_json(path: Path, doc: Mapping[str, Any]) -> Path:
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return path


@pytest.fixture
def conn(fresh_db: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(fresh_db) as connection:
        yield connection


@pytest.fixture
def registered(conn: psycopg.Connection) -> Rows:
    """The valid fixture imported; what the tables hold afterwards, `updated_at` included."""
    assert import_registry([VALID_JSON], conn) == ALL_NEW
    return contents(conn, with_updated_at=True)


# --- valid imports -------------------------------------------------------------------------------


def test_valid_json_imports_every_record(conn: psycopg.Connection) -> None:
    report = import_registry([VALID_JSON], conn)

    assert report == ALL_NEW
    assert str(report) == (
        "stations: 3 new, 0 updated, 0 unchanged; venues: 19 new, 0 updated, 0 unchanged;"
        " devices: 28 new, 0 updated, 0 unchanged"
    )
    rows = contents(conn)
    assert rows == expected_contents(valid_doc())
    # The fixture covers the whole vocabulary of the contract.
    assert {r[2] for r in rows["station"]} == set(StationKind)
    assert {r[2] for r in rows["venue"]} == set(VenueType)
    assert {r[3] for r in rows["venue"]} == {1, 2, 3}
    assert {r[1] for r in rows["device"]} == set(DeviceKind)


def _csv_variants(tmp_path: Path) -> dict[str, list[Path]]:
    """The CSV fixture given in different ways, including names that say nothing."""
    renamed = tmp_path / "renamed"
    renamed.mkdir()
    for source, target in [("stations", "a.txt"), ("venues", "export (2).CSV"), ("devices", "z")]:
        shutil.copy(CSV_DIR / f"{source}.csv", renamed / target)
    doc = valid_doc()
    stations_only = write_json(tmp_path / "stations.json", {"stations": doc["stations"]})
    return {
        "directory": [CSV_DIR],
        "three files": sorted(CSV_DIR.glob("*.csv")),
        "files in reverse order": sorted(CSV_DIR.glob("*.csv"), reverse=True),
        "names that say nothing": sorted(renamed.iterdir()),
        "JSON and CSV together": [stations_only, CSV_DIR / "venues.csv", CSV_DIR / "devices.csv"],
        "a file also reached through its directory": [CSV_DIR, CSV_DIR / "venues.csv"],
    }


@pytest.mark.parametrize(
    "variant",
    [
        "directory",
        "three files",
        "files in reverse order",
        "names that say nothing",
        "JSON and CSV together",
        "a file also reached through its directory",
    ],
)
def test_csv_gives_the_same_rows_as_json(
    conn: psycopg.Connection, tmp_path: Path, variant: str
) -> None:
    report = import_registry(_csv_variants(tmp_path)[variant], conn)

    assert report == ALL_NEW
    assert contents(conn) == expected_contents(valid_doc())
    # And JSON over CSV finds nothing to change.
    assert import_registry([VALID_JSON], conn) == ALL_UNCHANGED


def test_reimport_updates_rather_than_duplicates(
    conn: psycopg.Connection, registered: Rows
) -> None:
    assert import_registry([VALID_JSON], conn) == ALL_UNCHANGED
    assert import_registry([CSV_DIR], conn) == ALL_UNCHANGED
    # Unchanged rows are not rewritten: updated_at still says when they last changed.
    assert contents(conn, with_updated_at=True) == registered


def test_a_change_in_a_reimport_is_applied(
    conn: psycopg.Connection, registered: Rows, tmp_path: Path
) -> None:
    doc = valid_doc()
    doc["stations"][2]["phones"] = ["+8613800000103"]
    doc["venues"][3]["category"] = 3
    doc["venues"][3]["station_id"] = "ST-M02"
    doc["devices"][0]["heartbeat_s"] = 120
    doc["devices"].append(
        {"device_id": "D-SMK-999", "kind": "smoke", "venue_id": "V-004", "heartbeat_s": 300}
    )

    report = import_registry([write_json(tmp_path / "changed.json", doc)], conn)

    assert report == ImportReport(
        stations=Counts(updated=1, unchanged=2),
        venues=Counts(updated=1, unchanged=18),
        devices=Counts(inserted=1, updated=1, unchanged=27),
    )
    doc["devices"][-1]["location"] = ""  # absent location is stored empty
    assert contents(conn) == expected_contents(doc)
    after = contents(conn, with_updated_at=True)
    touched = {("station", "ST-P01"), ("venue", "V-004"), ("device", "D-SMK-001")}
    for table, rows in registered.items():
        before_at = {r[0]: r[-1] for r in rows}
        for row in after[table]:
            if (table, row[0]) in touched:
                assert row[-1] > before_at[row[0]], (table, row[0])
            elif row[0] in before_at:
                assert row[-1] == before_at[row[0]], (table, row[0])


def test_records_may_refer_to_stations_and_venues_already_registered(
    conn: psycopg.Connection, registered: Rows, tmp_path: Path
) -> None:
    devices = tmp_path / "devices.csv"
    devices.write_text(
        "device_id,kind,venue_id,location,heartbeat_s\nD-NEW-1,smoke,V-001,车库,300\n",
        encoding="utf-8",
    )
    venue = {
        "venue_id": "V-NEW",
        "name": "新开小吃店",
        "venue_type": "small_restaurant",
        "category": 2,
        "community": "梧桐居委",
        "grid": "G02",
        "address": "梧桐路 30 号",
        "lat": 31.23,
        "lon": 121.44,
        "station_id": "ST-M01",
    }
    venues = write_json(tmp_path / "venues.json", {"venues": [venue]})

    report = import_registry([devices, venues], conn)

    assert report == ImportReport(Counts(), Counts(inserted=1), Counts(inserted=1))
    assert conn.execute("SELECT venue_id FROM device WHERE device_id = 'D-NEW-1'").fetchone() == (
        "V-001",
    )


def test_an_import_with_nothing_in_it_changes_nothing(
    conn: psycopg.Connection, registered: Rows, tmp_path: Path
) -> None:
    report = import_registry([write_json(tmp_path / "empty.json", {})], conn)

    assert report == ImportReport(Counts(), Counts(), Counts())
    assert str(report) == "stations: none; venues: none; devices: none"
    assert contents(conn, with_updated_at=True) == registered


def test_three_thousand_devices_import_well_under_a_second(
    conn: psycopg.Connection, tmp_path: Path
) -> None:
    doc = valid_doc()
    venue = doc["venues"][0]
    doc["venues"] += [{**venue, "venue_id": f"V-BULK-{i}"} for i in range(600)]
    doc["devices"] = [
        {
            "device_id": f"D-BULK-{i}",
            "kind": "smoke",
            "venue_id": f"V-BULK-{i % 600}",
            "location": "走廊",
            "heartbeat_s": 300,
        }
        for i in range(3000)
    ]
    path = write_json(tmp_path / "bulk.json", doc)

    started = time.perf_counter()
    first = import_registry([path], conn)
    first_s = time.perf_counter() - started
    doc["devices"] = [{**d, "heartbeat_s": 600} for d in doc["devices"]]
    write_json(path, doc)
    started = time.perf_counter()
    second = import_registry([path], conn)
    second_s = time.perf_counter() - started

    assert first.devices == Counts(inserted=3000)
    assert second.devices == Counts(updated=3000)
    assert first_s < 1.0
    assert second_s < 1.0


def test_a_failed_import_inside_an_open_transaction_leaves_it_usable(
    conn: psycopg.Connection, registered: Rows
) -> None:
    conn.execute("SELECT 1")  # the caller's transaction is open: the import becomes a savepoint
    with pytest.raises(RegistryImportError):
        import_registry([Path("/nonexistent/registry.json")], conn)
    conn.execute("UPDATE station SET name = 'renamed' WHERE station_id = 'ST-P01'")
    conn.commit()
    assert conn.execute("SELECT name FROM station WHERE station_id = 'ST-P01'").fetchone() == (
        "renamed",
    )


# --- refused imports -----------------------------------------------------------------------------

# Valid rows that are new to the registered fixture and refer only to what it registered.
STATION = {
    "station_id": "ST-NEW",
    "name": "新建微型消防站",
    "kind": "micro",
    "phones": "+8613800000199",
    "lat": "31.2",
    "lon": "121.4",
}
VENUE = {
    "venue_id": "V-NEW",
    "name": "新开小吃店",
    "venue_type": "small_restaurant",
    "category": "2",
    "community": "梧桐居委",
    "grid": "G02",
    "address": "梧桐路 30 号",
    "lat": "31.23",
    "lon": "121.44",
    "station_id": "ST-M01",
    "contacts": "+8613900000099",
}
DEVICE = {
    "device_id": "D-NEW",
    "kind": "smoke",
    "venue_id": "V-001",
    "location": "1 楼",
    "heartbeat_s": "300",
}
JSON_STATION = {**STATION, "phones": ["+8613800000199"], "lat": 31.2, "lon": 121.4}
JSON_VENUE = {**VENUE, "category": 2, "lat": 31.23, "lon": 121.44, "contacts": ["+8613900000099"]}
JSON_DEVICE = {**DEVICE, "heartbeat_s": 300}


def table(
    base: Mapping[str, str], *rows: Mapping[str, str], header: list[str] | None = None
) -> str:
    """A CSV file: the header is line 1, the first row line 2."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    columns = header or list(base)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([{**base, **row}.get(c, "") for c in columns])
    return out.getvalue()


def station(**over: str) -> dict[str, str]:
    return {**STATION, **over}


def venue(**over: str) -> dict[str, str]:
    return {**VENUE, **over}


def device(**over: str) -> dict[str, str]:
    return {**DEVICE, **over}


def document(**sections: list[Any]) -> str:
    return json.dumps(sections, ensure_ascii=False)


def without(record: Mapping[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k != key}


@dataclass(frozen=True)
class Case:
    """Files to write (bytes as they are, None: a directory) and the problems expected, in order.

    A problem is (file, row, field, a fragment of its message); `args` defaults to every file.
    """

    files: Mapping[str, str | bytes | None]
    problems: list[tuple[str, int | str | None, str | None, str]]
    args: tuple[str, ...] | None = None


TYPES = "residential_compound, rental_housing, self_built_house"
LAT = "expected a number from -90 to 90"
HEARTBEAT = "expected a whole number of seconds from 1 to 2147483647"
ID = "expected 1 to 64 letters, digits, '_' or '-'"

BAD = [
    # A venue type the contract does not know: the allowed ones are listed.
    pytest.param(
        Case(
            {"venues.csv": table(VENUE, venue(venue_type="corner_store"))},
            [("venues.csv", 2, "venue_type", f"expected {TYPES}")],
        ),
        id="unknown venue_type",
    ),
    # A misspelt venue type gets a suggestion.
    pytest.param(
        Case(
            {"venues.csv": table(VENUE, venue(venue_type="small_resturant"))},
            [
                (
                    "venues.csv",
                    2,
                    "venue_type",
                    "got 'small_resturant' (did you mean small_restaurant?)",
                )
            ],
        ),
        id="misspelt venue_type",
    ),
    # Category 4, on the third line after a good row: the message of the brief, word for word.
    pytest.param(
        Case(
            {"venues.csv": table(VENUE, venue(venue_id="V-OK"), venue(category="4"))},
            [("venues.csv", 3, "category", "expected 1, 2 or 3, got '4'")],
        ),
        id="category 4",
    ),
    # A category that is not a number at all.
    pytest.param(
        Case(
            {"venues.csv": table(VENUE, venue(category="一类"))},
            [("venues.csv", 2, "category", "expected 1, 2 or 3, got '一类'")],
        ),
        id="category not a number",
    ),
    # Category 0 in JSON, located by its JSON path.
    pytest.param(
        Case(
            {"r.json": document(venues=[{**JSON_VENUE, "category": 0}])},
            [("r.json", "venues[0]", "category", "expected 1, 2 or 3, got '0'")],
        ),
        id="JSON category 0",
    ),
    # A station that is neither micro nor professional.
    pytest.param(
        Case(
            {"stations.csv": table(STATION, station(kind="volunteer"))},
            [("stations.csv", 2, "kind", "expected micro or professional, got 'volunteer'")],
        ),
        id="station kind",
    ),
    # Values are case-sensitive, with a hint.
    pytest.param(
        Case(
            {"stations.csv": table(STATION, station(kind="Micro"))},
            [("stations.csv", 2, "kind", "(did you mean micro?)")],
        ),
        id="station kind in capitals",
    ),
    # A device kind the contract does not know.
    pytest.param(
        Case(
            {"devices.csv": table(DEVICE, device(kind="heat"))},
            [
                (
                    "devices.csv",
                    2,
                    "kind",
                    "expected smoke, charging, elevator, occupancy or gas, got 'heat'",
                )
            ],
        ),
        id="device kind",
    ),
    # A device whose venue is neither in this import nor in the database.
    pytest.param(
        Case(
            {"devices.csv": table(DEVICE, device(venue_id="V-999"))},
            [
                (
                    "devices.csv",
                    2,
                    "venue_id",
                    "expected a venue of this import or already registered",
                )
            ],
        ),
        id="device of an unknown venue",
    ),
    # A venue whose station is neither in this import nor in the database.
    pytest.param(
        Case(
            {"venues.csv": table(VENUE, venue(station_id="ST-999"))},
            [
                (
                    "venues.csv",
                    2,
                    "station_id",
                    "expected a station of this import or already registered",
                )
            ],
        ),
        id="venue of an unknown station",
    ),
    # A device of a venue whose own row is bad: only the venue is reported, not the device too.
    pytest.param(
        Case(
            {
                "venues.csv": table(VENUE, venue(lat="north")),
                "devices.csv": table(DEVICE, device(venue_id="V-NEW")),
            },
            [("venues.csv", 2, "lat", f"{LAT}, got 'north'")],
        ),
        id="no cascade from a bad venue",
    ),
    # The same venue twice in one file: the second names the first.
    pytest.param(
        Case(
            {"venues.csv": table(VENUE, venue(), venue(name="又一家"))},
            [("venues.csv", 3, "venue_id", "got 'V-NEW' again (first at ")],
        ),
        id="duplicate in one file",
    ),
    # The same device in a JSON document and in a CSV file of the same import.
    pytest.param(
        Case(
            {
                "a.json": document(devices=[JSON_DEVICE]),
                "b.csv": table(DEVICE, device()),
            },
            [("b.csv", 2, "device_id", "expected each device once, got 'D-NEW' again")],
        ),
        id="duplicate across files",
    ),
    # A duplicate still counts when its first row was bad.
    pytest.param(
        Case(
            {"stations.csv": table(STATION, station(lat=""), station())},
            [
                ("stations.csv", 2, "lat", f"missing: {LAT}"),
                ("stations.csv", 3, "station_id", "got 'ST-NEW' again"),
            ],
        ),
        id="duplicate of a bad row",
    ),
    # A phone with spaces; the message masks it.
    pytest.param(
        Case(
            {"stations.csv": table(STATION, station(phones="+8613800000199;+86 138 0000 0198"))},
            [("stations.csv", 2, "phones", "got '+86 *** **** 0198'")],
        ),
        id="phone with spaces",
    ),
    # A phone that lost its + in a spreadsheet.
    pytest.param(
        Case(
            {"venues.csv": table(VENUE, venue(contacts="8613900000099"))},
            [("venues.csv", 2, "contacts", "got '*********0099' (no leading +")],
        ),
        id="phone without +",
    ),
    # Phones in JSON are a list, not a string.
    pytest.param(
        Case(
            {"r.json": document(venues=[{**JSON_VENUE, "contacts": "+8613900000099"}])},
            [("r.json", "venues[0]", "contacts", "got a string '+86*******0099'")],
        ),
        id="JSON phones not a list",
    ),
    # Latitude beyond the pole.
    pytest.param(
        Case(
            {"stations.csv": table(STATION, station(lat="91"))},
            [("stations.csv", 2, "lat", f"{LAT}, got '91.0'")],
        ),
        id="lat out of range",
    ),
    # Longitude beyond the date line.
    pytest.param(
        Case(
            {"venues.csv": table(VENUE, venue(lon="-181"))},
            [("venues.csv", 2, "lon", "expected a number from -180 to 180, got '-181.0'")],
        ),
        id="lon out of range",
    ),
    # A decimal comma is not a number.
    pytest.param(
        Case(
            {"venues.csv": table(VENUE, venue(lat="31,23"))},
            [("venues.csv", 2, "lat", f"{LAT}, got '31,23'")],
        ),
        id="lat with a decimal comma",
    ),
    # NaN is not a position, though Python would parse it.
    pytest.param(
        Case(
            {"stations.csv": table(STATION, station(lon="nan"))},
            [("stations.csv", 2, "lon", "got 'nan'")],
        ),
        id="lon nan",
    ),
    # JSON numbers must be numbers, not strings.
    pytest.param(
        Case(
            {"r.json": document(stations=[{**JSON_STATION, "lat": "31.2"}])},
            [("r.json", "stations[0]", "lat", f"{LAT}, got a string '31.2'")],
        ),
        id="JSON lat as a string",
    ),
    # JSON booleans are not numbers either.
    pytest.param(
        Case(
            {"r.json": document(stations=[{**JSON_STATION, "lon": True}])},
            [("r.json", "stations[0]", "lon", "got a boolean 'True'")],
        ),
        id="JSON lon boolean",
    ),
    # An id with a space.
    pytest.param(
        Case(
            {"devices.csv": table(DEVICE, device(device_id="D 1"))},
            [("devices.csv", 2, "device_id", f"{ID}, got 'D 1'")],
        ),
        id="id with a space",
    ),
    # An id with a slash would break the MQTT topic.
    pytest.param(
        Case(
            {"venues.csv": table(VENUE, venue(venue_id="V/1"))},
            [("venues.csv", 2, "venue_id", f"{ID}, got 'V/1'")],
        ),
        id="id with a slash",
    ),
    # An id of 65 characters.
    pytest.param(
        Case(
            {"stations.csv": table(STATION, station(station_id="S" * 65))},
            [("stations.csv", 2, "station_id", f"{ID}, got 65 characters")],
        ),
        id="id too long",
    ),
    # A JSON id that is a number.
    pytest.param(
        Case(
            {"r.json": document(devices=[{**JSON_DEVICE, "device_id": 17}])},
            [("r.json", "devices[0]", "device_id", "expected a string, got a number '17'")],
        ),
        id="JSON id as a number",
    ),
    # An empty required cell.
    pytest.param(
        Case(
            {"venues.csv": table(VENUE, venue(name=" "))},
            [("venues.csv", 2, "name", "missing: expected a non-empty text")],
        ),
        id="empty name",
    ),
    # A required JSON key left out.
    pytest.param(
        Case(
            {"r.json": document(devices=[without(JSON_DEVICE, "heartbeat_s")])},
            [("r.json", "devices[0]", "heartbeat_s", f"missing: {HEARTBEAT}")],
        ),
        id="JSON key missing",
    ),
    # A required JSON value that is null.
    pytest.param(
        Case(
            {"r.json": document(venues=[{**JSON_VENUE, "address": None}])},
            [("r.json", "venues[0]", "address", "missing")],
        ),
        id="JSON null",
    ),
    # A column missing from the header is reported once, not on every row.
    pytest.param(
        Case(
            {
                "venues.csv": table(
                    VENUE, venue(), venue(venue_id="V-2"), header=list(without(VENUE, "grid"))
                )
            },
            [("venues.csv", 1, "grid", "missing column: a venue file has exactly the columns")],
        ),
        id="missing column",
    ),
    # Without its id column no row can be checked, and none is reported one by one.
    pytest.param(
        Case(
            {"devices.csv": table(DEVICE, device(), device(), header=list(DEVICE)[1:])},
            [("devices.csv", 1, "device_id", "missing column: a device file has exactly")],
        ),
        id="missing id column",
    ),
    # Heartbeat zero.
    pytest.param(
        Case(
            {"devices.csv": table(DEVICE, device(heartbeat_s="0"))},
            [("devices.csv", 2, "heartbeat_s", f"{HEARTBEAT}, got '0'")],
        ),
        id="heartbeat 0",
    ),
    # Heartbeat negative.
    pytest.param(
        Case(
            {"devices.csv": table(DEVICE, device(heartbeat_s="-60"))},
            [("devices.csv", 2, "heartbeat_s", f"{HEARTBEAT}, got '-60'")],
        ),
        id="heartbeat negative",
    ),
    # Heartbeat with a fraction.
    pytest.param(
        Case(
            {"devices.csv": table(DEVICE, device(heartbeat_s="60.5"))},
            [("devices.csv", 2, "heartbeat_s", f"{HEARTBEAT}, got '60.5'")],
        ),
        id="heartbeat fraction",
    ),
    # Heartbeat with its unit written in.
    pytest.param(
        Case(
            {"devices.csv": table(DEVICE, device(heartbeat_s="5min"))},
            [("devices.csv", 2, "heartbeat_s", f"{HEARTBEAT}, got '5min'")],
        ),
        id="heartbeat with a unit",
    ),
    # Heartbeat beyond what the column holds.
    pytest.param(
        Case(
            {"devices.csv": table(DEVICE, device(heartbeat_s=str(2**31)))},
            [("devices.csv", 2, "heartbeat_s", f"{HEARTBEAT}, got '2147483648'")],
        ),
        id="heartbeat too large",
    ),
    # A JSON heartbeat of 60.0 is not an integer.
    pytest.param(
        Case(
            {"r.json": document(devices=[{**JSON_DEVICE, "heartbeat_s": 60.0}])},
            [("r.json", "devices[0]", "heartbeat_s", f"{HEARTBEAT}, got '60.0'")],
        ),
        id="JSON heartbeat float",
    ),
    # A column the contract does not have.
    pytest.param(
        Case(
            {"devices.csv": table(DEVICE, device(), header=[*DEVICE, "owner"])},
            [("devices.csv", 1, "owner", "unknown column: a device file has exactly the columns")],
        ),
        id="unknown column",
    ),
    # The same column twice.
    pytest.param(
        Case(
            {"devices.csv": table(DEVICE, device(), header=[*DEVICE, "kind"])},
            [("devices.csv", 1, "kind", "column given twice")],
        ),
        id="column twice",
    ),
    # A JSON key the contract does not have.
    pytest.param(
        Case(
            {"r.json": document(stations=[{**JSON_STATION, "captain": "王"}])},
            [("r.json", "stations[0]", "captain", "unknown key: expected only station_id, name")],
        ),
        id="unknown JSON key",
    ),
    # A JSON key given twice in one record (JSON itself would keep the last silently).
    pytest.param(
        Case(
            {
                "r.json": '{"devices": [{"device_id": "D-NEW", "kind": "smoke", "kind": "heat",'
                ' "venue_id": "V-001", "heartbeat_s": 300}]}'
            },
            [
                ("r.json", "devices[0]", "kind", "given twice in the same object"),
                ("r.json", "devices[0]", "kind", "got 'heat'"),
            ],
        ),
        id="JSON key twice",
    ),
    # A top-level key the contract does not have.
    pytest.param(
        Case(
            {"r.json": document(stations=[JSON_STATION], buildings=[])},
            [("r.json", None, "buildings", "unknown key: expected only stations, venues, devices")],
        ),
        id="unknown top-level key",
    ),
    # JSON cut short, located by line.
    pytest.param(
        Case(
            {"r.json": '{\n  "stations": [\n'},
            [("r.json", 3, None, "malformed JSON")],
        ),
        id="malformed JSON",
    ),
    # NaN is accepted by Python's json but is not JSON.
    pytest.param(
        Case(
            {"r.json": '{"stations": [{"lat": NaN}]}'},
            [("r.json", None, None, "malformed JSON: NaN is not a JSON number")],
        ),
        id="JSON NaN",
    ),
    # A JSON list where the document should be an object.
    pytest.param(
        Case(
            {"r.json": json.dumps([JSON_STATION])},
            [
                (
                    "r.json",
                    None,
                    None,
                    "expected a JSON object with the keys stations, venues or devices",
                )
            ],
        ),
        id="JSON top level a list",
    ),
    # A section that is not a list.
    pytest.param(
        Case(
            {"r.json": json.dumps({"venues": JSON_VENUE})},
            [("r.json", "venues", None, "expected a list of venues")],
        ),
        id="JSON section not a list",
    ),
    # A record that is not an object.
    pytest.param(
        Case(
            {"r.json": json.dumps({"devices": ["D-NEW"]})},
            [("r.json", "devices[0]", None, "expected a JSON object (one device)")],
        ),
        id="JSON record not an object",
    ),
    # A quote never closed.
    pytest.param(
        Case(
            {"devices.csv": table(DEVICE, device()) + 'D-2,smoke,V-001,"1 楼,300\n'},
            [("devices.csv", 3, None, "malformed CSV: unexpected end of data")],
        ),
        id="unterminated quote",
    ),
    # A comma inside an unquoted value shifts the row.
    pytest.param(
        Case(
            {"devices.csv": table(DEVICE, device()) + "D-2,smoke,V-001,1 楼, 东侧,300\n"},
            [("devices.csv", 3, None, "expected 5 values, one per column, got 6")],
        ),
        id="too many values",
    ),
    # A header that is no kind of record.
    pytest.param(
        Case(
            {"x.csv": "id,title\n1,foo\n"},
            [("x.csv", 1, None, "cannot tell which records this file holds: expected the columns")],
        ),
        id="unknown header",
    ),
    # A file with nothing in it.
    pytest.param(
        Case({"venues.csv": ""}, [("venues.csv", None, None, "empty: expected a header line")]),
        id="empty file",
    ),
    # A file that is not there.
    pytest.param(
        Case({}, [("missing.csv", None, None, "no such file")], args=("missing.csv",)),
        id="file not found",
    ),
    # A directory with no registry files in it.
    pytest.param(
        Case({"empty": None}, [("empty", None, None, "expected .json or .csv files, found none")]),
        id="empty directory",
    ),
    # A spreadsheet saved in GBK rather than UTF-8.
    pytest.param(
        Case(
            {"venues.csv": table(VENUE, venue()).encode("gbk")},
            [("venues.csv", None, None, "expected UTF-8 text")],
        ),
        id="not UTF-8",
    ),
    # A NUL character, which PostgreSQL text cannot hold.
    pytest.param(
        Case(
            {"r.json": document(stations=[{**JSON_STATION, "name": "站\u0000"}])},
            [("r.json", "stations[0]", "name", "contains a NUL character")],
        ),
        id="NUL in a name",
    ),
]


def _write(tmp_path: Path, case: Case) -> list[Path]:
    for name, content in case.files.items():
        path = tmp_path / name
        if content is None:
            path.mkdir()
        elif isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return [tmp_path / name for name in (case.args or case.files)]


@pytest.mark.parametrize("case", BAD)
def test_a_bad_import_names_every_problem_and_writes_nothing(
    conn: psycopg.Connection, registered: Rows, tmp_path: Path, case: Case
) -> None:
    paths = _write(tmp_path, case)

    with pytest.raises(RegistryImportError) as caught:
        import_registry(paths, conn)

    problems = caught.value.problems
    where = [(str(Path(p.file).relative_to(tmp_path)), p.row, p.field) for p in problems]
    assert where == [(file, row, field) for file, row, field, _ in case.problems]
    for problem, (*_, fragment) in zip(problems, case.problems, strict=True):
        assert fragment in problem.message
    assert contents(conn, with_updated_at=True) == registered


def test_every_problem_is_reported_at_once_in_file_order(
    conn: psycopg.Connection, registered: Rows, tmp_path: Path
) -> None:
    venues = tmp_path / "venues.csv"
    venues.write_text(
        table(
            VENUE,
            venue(venue_id="V-A", category="7"),
            venue(venue_id="V-B"),
            venue(venue_id="V-C", venue_type="shop", lat="95", contacts="+86 139"),
        ),
        encoding="utf-8",
    )
    registry = write_json(
        tmp_path / "registry.json",
        {"devices": [{**JSON_DEVICE, "venue_id": "V-X"} for _ in range(2)]},
    )

    with pytest.raises(RegistryImportError) as caught:
        import_registry([registry, venues], conn)

    lines = str(caught.value).splitlines()
    assert lines == [
        f"{registry} devices[0], field venue_id: expected a venue of this import or already"
        " registered, got 'V-X'",
        f"{registry} devices[1], field device_id: expected each device once, got 'D-NEW' again"
        f" (first at {registry} devices[0])",
        f"{registry} devices[1], field venue_id: expected a venue of this import or already"
        " registered, got 'V-X'",
        f"{venues} line 2, field category: expected 1, 2 or 3, got '7'",
        f"{venues} line 4, field venue_type: expected {', '.join(list(VenueType)[:-1])}"
        " or ebike_shed, got 'shop'",
        f"{venues} line 4, field lat: expected a number from -90 to 90, got '95.0'",
        f"{venues} line 4, field contacts: expected E.164 numbers such as +86138xxxxxxxx,"
        " no spaces, got '+** ***'",
    ]
    assert contents(conn, with_updated_at=True) == registered


def test_phone_numbers_never_appear_in_full_in_problems(
    conn: psycopg.Connection, tmp_path: Path
) -> None:
    phones = ["+86 138 1234 5678", "13812345679", "+8613812345670x"]
    stations = tmp_path / "stations.csv"
    stations.write_text(table(STATION, station(phones=";".join(phones))), encoding="utf-8")
    # A file without its header: the first row, phone and all, is read as one.
    headless = tmp_path / "headless.csv"
    headless.write_text(
        "V-1,店,small_shop,2,居,G,址,31,121,ST-M01,+8613812345671\n", encoding="utf-8"
    )
    keyed = write_json(tmp_path / "keyed.json", {"stations": [{"+8613812345672": 1}]})

    with pytest.raises(RegistryImportError) as caught:
        import_registry([stations, headless, keyed], conn)

    problems = caught.value.problems
    assert len(problems) >= 5
    for problem in problems:
        # Every number above has 1234 in the middle: only the last four digits may show.
        assert "1234" not in f"{problem.field} {problem.message}", problem
    assert "'+86 *** **** 5678'" in str(caught.value)


def test_a_file_has_the_columns_of_the_kernels_records() -> None:
    """The import reads values as written (`firewatch.registry.records`, any string, so a bad
    one is reported with its row); the columns it reads are the kernel's records' fields, the
    ones the simulators write and alerting loads."""
    assert {
        Kind.STATION: tuple(f.name for f in fields(kernel.Station)),
        Kind.VENUE: tuple(f.name for f in fields(kernel.Venue)),
        Kind.DEVICE: tuple(f.name for f in fields(kernel.Device)),
    } == COLUMNS
