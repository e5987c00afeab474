"""One seeded control-room database for the dashboard tests that only read (cloned from the
session's migrated template, as `fresh_db` is, seeded once, dropped at the end)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import UTC, datetime

import psycopg
import pytest
from psycopg import sql

from firewatch.dashboards.rollups import refresh
from tests.conftest import with_database
from tests.dashboards.seed import ZONE, Seeded, seed


@pytest.fixture(scope="session")
def seeded(pg_server_url: str, template_db: str) -> Iterator[Seeded]:
    name = f"fw_dash_{secrets.token_hex(4)}"
    with psycopg.connect(pg_server_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(name), sql.Identifier(template_db)
            )
        )
    url = with_database(pg_server_url, name)
    try:
        now = datetime.now(UTC).replace(second=0, microsecond=0)
        seeded = seed(url, now)
        with psycopg.connect(url, autocommit=True) as conn:
            refresh(conn, now, ZONE)
        yield seeded
    finally:
        with psycopg.connect(pg_server_url, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
