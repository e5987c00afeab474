"""A request that runs too long is cancelled and said so; the API's pool waits no longer."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest
from fastapi import Request

from firewatch.api.app import create_app
from firewatch.api.deps import open_pool
from firewatch.api.server import ApiServer
from tests.api.conftest import ADMIN_TOKEN
from tests.support.ports import free_port


@pytest.fixture
def slow_api(fresh_db: str) -> Iterator[str]:
    pool = open_pool(fresh_db, 1, query_timeout_s=0.3)
    app = create_app(lambda: {"api": "ok"}, pool, ADMIN_TOKEN)

    @app.get("/slow")  # stands in for a query over far too much data
    def slow(request: Request) -> dict[str, str]:
        with request.app.state.pool.connection() as conn:
            conn.execute("SELECT pg_sleep(5)")
        return {"never": "reached"}

    bind = f"127.0.0.1:{free_port()}"
    try:
        with ApiServer(app, bind):
            yield f"http://{bind}"
    finally:
        pool.close()


def test_a_query_over_its_time_is_cancelled_with_a_clear_error(slow_api: str) -> None:
    started = time.monotonic()
    response = httpx.get(f"{slow_api}/slow", timeout=10)
    took = time.monotonic() - started
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "timeout"
    assert took < 3, "cancelled at the query timeout, not after the whole query"
    with httpx.Client(base_url=slow_api, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}) as c:
        assert c.get("/api/v1/me").status_code == 200, "the connection is usable again"
