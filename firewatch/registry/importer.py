"""`firewatch registry import`: read, check everything, then write all of it or nothing."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import psycopg

from firewatch.registry.parse import parse
from firewatch.registry.problems import RegistryImportError, ordered
from firewatch.registry.records import Kind
from firewatch.registry.store import ImportReport, existing_ids, upsert
from firewatch.registry.validate import Existing, outside_references, validate


def import_registry(paths: Sequence[Path | str], conn: psycopg.Connection[Any]) -> ImportReport:
    """Import stations, venues and devices from JSON or CSV files (directories: their files).

    All files are one import: if anything is wrong, RegistryImportError lists every problem and
    nothing is written. The work runs in `conn.transaction()`, which commits on its own unless the
    caller already has a transaction open (it then becomes a savepoint of the caller's).
    """
    batch, problems = parse(paths)
    with conn.transaction():
        wanted = outside_references(batch)
        existing = Existing(
            station_ids=existing_ids(conn, Kind.STATION, wanted.station_ids),
            venue_ids=existing_ids(conn, Kind.VENUE, wanted.venue_ids),
        )
        problems += validate(batch, existing)
        if problems:
            raise RegistryImportError(ordered(problems, batch.files))
        return upsert(conn, batch)
