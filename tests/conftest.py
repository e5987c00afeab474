"""Real services for every test: the running PostgreSQL and Mosquitto, or embedded ones.

Each test session gets its own migrated database (dropped at the end); `fresh_db` gives a test
an empty copy of it, cloned from a template, so tests never see each other's rows.
"""

from __future__ import annotations

import logging
import secrets
import socket
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from psycopg import sql

from firewatch.db.migrate import migrate
from tests.support.fixtures import private_mosquitto
from tests.support.mosquitto import PrivateMosquitto, start_private_mosquitto

LOCAL_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"
LOCAL_MQTT = ("127.0.0.1", 1883)

__all__ = ["private_mosquitto"]  # a fixture, re-exported for every test

log = logging.getLogger("tests")


def port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def with_database(url: str, name: str) -> str:
    """The same server URL, pointing at another database."""
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


@pytest.fixture(scope="session")
def services_dir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="fw-test-services-") as path:
        yield Path(path)


@pytest.fixture(scope="session")
def pg_server_url(services_dir: Path) -> Iterator[str]:
    """An admin URL of a PostgreSQL server: the local one, else an embedded one."""
    if port_open("127.0.0.1", 5432):
        yield LOCAL_POSTGRES
        return
    from firewatch.embedded.postgres import start_postgres

    log.warning("no PostgreSQL on 127.0.0.1:5432: starting an embedded one for the tests")
    with start_postgres(services_dir / "postgres") as server:
        yield server.url


def _admin(url: str) -> psycopg.Connection:
    return psycopg.connect(url, autocommit=True)


def _drop(url: str, name: str) -> None:
    with _admin(url) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


@pytest.fixture(scope="session")
def template_db(pg_server_url: str) -> Iterator[str]:
    """Name of a database migrated once per test session, cloned by `fresh_db`."""
    name = f"fw_tpl_{secrets.token_hex(4)}"
    with _admin(pg_server_url) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        with psycopg.connect(with_database(pg_server_url, name), autocommit=True) as conn:
            migrate(conn, datetime.now(UTC).date())
        yield name
    finally:
        _drop(pg_server_url, name)


@contextmanager
def _database(server_url: str, prefix: str, template: str | None = None) -> Iterator[str]:
    """A new database (a copy of `template`, if given) for the `with` block, then dropped."""
    name = f"{prefix}_{secrets.token_hex(4)}"
    create = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
    if template is not None:
        create += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
    with _admin(server_url) as conn:
        conn.execute(create)
    try:
        yield with_database(server_url, name)
    finally:
        _drop(server_url, name)


@pytest.fixture(scope="session")
def db_url(pg_server_url: str, template_db: str) -> Iterator[str]:
    """This test session's own migrated database, shared by the tests that ask for it."""
    with _database(pg_server_url, "fw_session", template_db) as url:
        yield url


@pytest.fixture
def fresh_db(pg_server_url: str, template_db: str) -> Iterator[str]:
    """A migrated, empty database for one test, dropped afterwards."""
    with _database(pg_server_url, "fw_test", template_db) as url:
        yield url


@pytest.fixture
def empty_db(pg_server_url: str) -> Iterator[str]:
    """A database with no schema at all, for migration tests."""
    with _database(pg_server_url, "fw_empty") as url:
        yield url


@pytest.fixture(scope="session")
def mqtt_broker(services_dir: Path) -> Iterator[tuple[str, int]]:
    """(host, port) of an MQTT broker: the local Mosquitto, else an embedded one."""
    if port_open(*LOCAL_MQTT):
        yield LOCAL_MQTT
        return
    from firewatch.embedded.broker import start_broker

    log.warning("no MQTT broker on 127.0.0.1:1883: starting an embedded one for the tests")
    with ExitStack() as stack:
        broker = stack.enter_context(start_broker(services_dir / "broker"))
        yield broker.host, broker.port


@pytest.fixture(scope="session")
def engine_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrivateMosquitto]:
    """A private Mosquitto with the engine's broker configuration (ingest/broker/mosquitto.conf)."""
    with start_private_mosquitto(tmp_path_factory.mktemp("engine-broker")) as broker:
        yield broker
