"""The generated registry imports into a real PostgreSQL through `firewatch registry import`."""

from __future__ import annotations

from pathlib import Path

import psycopg

from firewatch.kernel.contract import DeviceKind
from firewatch.registry import import_registry
from firewatch.simulators import registry_files
from tests.simulators.helpers import world


def test_the_json_document_imports_and_the_csv_files_match_it(
    fresh_db: str, tmp_path: Path
) -> None:
    sub = world()
    paths = registry_files.write(sub, tmp_path)
    with psycopg.connect(fresh_db) as conn:
        report = import_registry([paths[0]], conn)
        assert report.stations.inserted == len(sub.stations)
        assert report.venues.inserted == len(sub.venues)
        assert report.devices.inserted == len(sub.devices)
        # The CSV folder holds the same records: importing it changes nothing.
        again = import_registry([tmp_path / registry_files.CSV_DIR], conn)
        assert again.devices.unchanged == len(sub.devices)
        assert again.venues.unchanged == len(sub.venues)
        assert again.stations.unchanged == len(sub.stations)
        kinds: dict[str, int] = dict(
            conn.execute("SELECT kind, count(*) FROM device GROUP BY kind").fetchall()
        )
    assert sum(kinds.values()) == len(sub.devices) and set(kinds) == {str(k) for k in DeviceKind}
