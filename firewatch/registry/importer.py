"""`firewatch registry import`: read, check everything, then write all of it or nothing."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import psycopg

from firewatch.registry.errors import RegistryImportError
from firewatch.registry.parse import parse, parse_json_text
from firewatch.registry.problems import Problem, ordered
from firewatch.registry.records import Batch, Kind
from firewatch.registry.store import ImportReport, existing_ids, upsert
from firewatch.registry.validate import Existing, outside_references, validate


def import_registry(paths: Sequence[Path | str], conn: psycopg.Connection[Any]) -> ImportReport:
    """Import stations, venues and devices from JSON or CSV files (directories: their files).

    All files are one import: if anything is wrong, RegistryImportError lists every problem and
    nothing is written. The work runs in `conn.transaction()`, which commits on its own unless the
    caller already has a transaction open (it then becomes a savepoint of the caller's).
    """
    batch, problems = parse(paths)
    return _check_and_write(batch, problems, conn)


def import_document(name: str, text: str, conn: psycopg.Connection[Any]) -> ImportReport:
    """The same, for a JSON document given as text (`name` is how problems refer to it)."""
    batch, problems = parse_json_text(name, text)
    return _check_and_write(batch, problems, conn)


def _check_and_write(
    batch: Batch, problems: list[Problem], conn: psycopg.Connection[Any]
) -> ImportReport:
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
