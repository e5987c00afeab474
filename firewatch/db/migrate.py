"""Numbered SQL migrations, applied in order, each in its own transaction, recorded in a table.

A migration is `NNNN_name.sql`; where TimescaleDB is in use and `NNNN_name.timescale.sql`
exists, that variant is applied instead. The store backend is chosen once, on the first run,
and recorded, so that a later run never mixes the two paths.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from importlib import resources
from typing import Final

import psycopg

from firewatch.db.partitions import ensure_reading_partitions
from firewatch.errors import MigrationError

log = logging.getLogger("firewatch.db")

_FILE_NAME: Final = re.compile(
    r"^(?P<version>\d{4})_(?P<name>[a-z0-9_]+?)(?P<ts>\.timescale)?\.sql$"
)
# Any constant works; it only has to be the same in every process that migrates this database.
_MIGRATION_LOCK: Final = 0x66_77_6D_69_67  # "fwmig"

_BOOKKEEPING: Final = """
CREATE TABLE IF NOT EXISTS schema_migration (
    version     integer PRIMARY KEY,
    name        text NOT NULL,
    variant     text NOT NULL,
    checksum    text NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS schema_meta (
    key    text PRIMARY KEY,
    value  text NOT NULL
);
"""


class Backend(StrEnum):
    TIMESCALEDB = "timescaledb"
    POSTGRESQL = "postgresql"


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    plain_sql: str
    timescale_sql: str | None

    def sql_for(self, backend: Backend) -> tuple[str, str]:
        """The SQL to run on this backend and the variant's name."""
        if backend is Backend.TIMESCALEDB and self.timescale_sql is not None:
            return self.timescale_sql, "timescale"
        return self.plain_sql, "plain"


@dataclass(frozen=True, slots=True)
class MigrationReport:
    backend: Backend
    applied: tuple[str, ...]
    partitions_created: tuple[str, ...]


def discover() -> list[Migration]:
    """Every migration shipped with the package, in version order."""
    plain: dict[int, tuple[str, str]] = {}
    timescale: dict[int, str] = {}
    for entry in resources.files("firewatch.db").joinpath("migrations").iterdir():
        match = _FILE_NAME.match(entry.name)
        if match is None:
            continue
        version = int(match["version"])
        if match["ts"]:
            timescale[version] = entry.read_text(encoding="utf-8")
        else:
            if version in plain:
                raise MigrationError(f"two migrations are numbered {version:04d}")
            plain[version] = (match["name"], entry.read_text(encoding="utf-8"))
    orphans = set(timescale) - set(plain)
    if orphans:
        raise MigrationError(f"timescale variant without a plain migration: {sorted(orphans)}")
    return [Migration(v, plain[v][0], plain[v][1], timescale.get(v)) for v in sorted(plain)]


def _checksum(sql: str) -> str:
    return hashlib.sha256(sql.encode()).hexdigest()[:16]


def _choose_backend(conn: psycopg.Connection) -> Backend:
    """The recorded backend, or on a new database the best one it can run."""
    row = conn.execute("SELECT value FROM schema_meta WHERE key = 'store_backend'").fetchone()
    if row is not None:
        backend = Backend(row[0])
        log.info("store backend: %s (recorded at the first migration)", backend)
        return backend
    available = conn.execute(
        "SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb'"
    ).fetchone()
    backend = Backend.POSTGRESQL
    why = "the timescaledb extension is not available on this server"
    if available is not None:
        try:
            with conn.transaction():
                conn.execute("CREATE EXTENSION IF NOT EXISTS timescaledb")
            backend = Backend.TIMESCALEDB
            why = "the timescaledb extension is available"
        except psycopg.Error as exc:
            why = f"the timescaledb extension could not be created ({exc.diag.message_primary})"
    with conn.transaction():
        conn.execute(
            "INSERT INTO schema_meta (key, value) VALUES ('store_backend', %s)", (backend.value,)
        )
    log.info(
        "store backend: %s, because %s%s",
        backend,
        why,
        "" if backend is Backend.TIMESCALEDB else "; readings use native range partitioning",
    )
    return backend


def migrate(
    conn: psycopg.Connection,
    today: date,
    partition_days_ahead: int = 7,
    partition_days_behind: int = 7,
) -> MigrationReport:
    """Apply what is missing; a second run applies nothing. `conn` must be in autocommit mode."""
    if not conn.autocommit:
        raise MigrationError("migrate needs a connection in autocommit mode")
    conn.execute("SELECT pg_advisory_lock(%s)", (_MIGRATION_LOCK,))
    try:
        conn.execute(_BOOKKEEPING)
        backend = _choose_backend(conn)
        done = {
            version: checksum
            for version, checksum in conn.execute("SELECT version, checksum FROM schema_migration")
        }
        applied: list[str] = []
        for migration in discover():
            sql, variant = migration.sql_for(backend)
            label = f"{migration.version:04d}_{migration.name} ({variant})"
            if migration.version in done:
                if done[migration.version] != _checksum(sql):
                    raise MigrationError(
                        f"migration {label} was changed after it was applied to this database; "
                        "add a new migration instead"
                    )
                continue
            try:
                with conn.transaction():
                    conn.execute(sql.encode())  # a trusted file shipped with us
                    conn.execute(
                        "INSERT INTO schema_migration (version, name, variant, checksum)"
                        " VALUES (%s, %s, %s, %s)",
                        (migration.version, migration.name, variant, _checksum(sql)),
                    )
            except psycopg.Error as exc:
                raise MigrationError(f"migration {label} failed: {exc}") from exc
            log.info("applied migration %s", label)
            applied.append(label)
        created: list[str] = []
        if backend is Backend.POSTGRESQL:
            created = ensure_reading_partitions(
                conn,
                today - timedelta(days=partition_days_behind),
                today + timedelta(days=partition_days_ahead + 1),
            )
        return MigrationReport(backend, tuple(applied), tuple(created))
    finally:
        conn.execute("SELECT pg_advisory_unlock(%s)", (_MIGRATION_LOCK,))
