"""A running API (real uvicorn, real database) with one user per role."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
import psycopg
import pytest
from psycopg_pool import ConnectionPool

from firewatch.alerting import AlertStage
from firewatch.api.app import create_app
from firewatch.api.server import ApiServer
from firewatch.auth.roles import Role
from firewatch.auth.users import create_user
from firewatch.kernel.clock import ManualClock
from firewatch.kernel.contract import Level
from firewatch.rules.evidence import Category, Evidence, ReadingRef, Scope
from tests.alerting.support import SETTINGS
from tests.ingest.seed import seed_registry
from tests.support.ports import free_port

ADMIN_TOKEN = "bootstrap-admin-token-for-tests"


@dataclass(frozen=True)
class Api:
    base: str
    db_url: str
    tokens: dict[str, str]

    def client(self, who: str | None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.tokens[who]}"} if who else {}
        return httpx.Client(base_url=self.base, headers=headers, timeout=10)


@pytest.fixture
def api(fresh_db: str) -> Iterator[Api]:
    seed_registry(fresh_db)  # community Xinhua: V-HOME, V-SHED, V-TOWER, V-SHOP
    with psycopg.connect(fresh_db) as conn:
        conn.execute(
            "INSERT INTO venue (venue_id, name, venue_type, category, community, grid, address,"
            " lat, lon, station_id) VALUES ('V-OTHER', 'Other shop', 'small_shop', 2, 'Riverside',"
            " 'G-09', 'No. 9 Road', 31.24, 121.48, 'MS-1')"
        )
        conn.execute(
            "INSERT INTO device (device_id, kind, venue_id, heartbeat_s)"
            " VALUES ('SMK-OTHER', 'smoke', 'V-OTHER', 60)"
        )
        tokens = {role.value: create_user(conn, f"u-{role.value}", role) for role in Role}
        tokens["operator-xinhua"] = create_user(conn, "op-xinhua", Role.OPERATOR, ["Xinhua"])
        tokens["station-xinhua"] = create_user(
            conn, "st-xinhua", Role.STATION, ["Xinhua"], station_id="MS-1"
        )
    tokens["bootstrap"] = ADMIN_TOKEN
    pool = ConnectionPool(fresh_db, min_size=1, max_size=4, open=True)
    bind = f"127.0.0.1:{free_port()}"
    try:
        with ApiServer(create_app(lambda: {"api": "ok"}, pool, ADMIN_TOKEN, None, SETTINGS), bind):
            yield Api(f"http://{bind}", fresh_db, tokens)
    finally:
        pool.close()


@dataclass(frozen=True)
class Alerts:
    confirmed: str  # a red fire at V-HOME (Xinhua): confirmed at once, the station called
    pending: str  # an orange fire signal at V-SHED (Xinhua): waiting for verification
    other: str  # a red fire at V-OTHER (Riverside)


def _evidence(device_id: str, venue_id: str, level: Level, at: datetime) -> Evidence:
    refs = (ReadingRef(device_id, at, 1, "smoke_obs", 1.0),)
    return Evidence("smoke_rise", 1, Category.FIRE, level, Scope.DEVICE, device_id, venue_id,
                    (device_id,), at, f"smoke rising at {device_id}", refs)  # fmt: skip


def raise_alerts(url: str, *items: tuple[str, str, Level]) -> list[str]:
    """Alerts opened by the alerting stage itself from evidence (device, venue, level) now:
    the open fire alert of each venue, in the order given."""
    clock = ManualClock(datetime.now(UTC))
    stage = AlertStage(lambda: psycopg.connect(url), clock, SETTINGS)
    try:
        stage.take(evidence=[_evidence(d, v, level, clock.now()) for d, v, level in items])
        stage.drain()
    finally:
        stage.close()
    with psycopg.connect(url) as conn:
        return [
            str(row[0])
            for _, venue_id, _ in items
            if (row := conn.execute(
                "SELECT alert_id FROM alert WHERE venue_id = %s AND kind = 'fire'"
                " AND state <> 'resolved'", (venue_id,)).fetchone()) is not None
        ]  # fmt: skip


@pytest.fixture
def alerts(api: Api) -> Alerts:
    confirmed, pending, other = raise_alerts(
        api.db_url,
        ("SMK-1", "V-HOME", Level.RED),
        ("CHG-1", "V-SHED", Level.ORANGE),
        ("SMK-OTHER", "V-OTHER", Level.RED),
    )
    return Alerts(confirmed, pending, other)
