"""The acknowledgement link of a real notification, opened over HTTP: once it works, a used,
expired or forged link is refused."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import psycopg
from psycopg_pool import ConnectionPool

from firewatch.api.app import create_app
from firewatch.api.server import ApiServer
from firewatch.kernel.contract import Level
from tests.alerting.support import SETTINGS, STATION_PHONES, Harness, seed
from tests.support.ports import free_port


def test_a_link_acknowledges_once_and_is_then_refused(fresh_db: str) -> None:
    seed(fresh_db)
    h = Harness(fresh_db, start=datetime.now(UTC) - timedelta(seconds=5))
    pool = ConnectionPool(fresh_db, min_size=1, max_size=2, open=True)
    bind = f"127.0.0.1:{free_port()}"
    try:
        h.fire("SMK-1", Level.RED)
        alert = h.alert("V-HOME")
        sms = next(n for n in h.notices(alert["alert_id"], purpose="confirmed", channel="sms")
                   if n["recipient"] in STATION_PHONES)  # fmt: skip
        token = parse_qs(urlsplit(json.loads(sms["body"])["ack_url"]).query)["token"][0]
        with ApiServer(create_app(lambda: {}, pool, None, None, SETTINGS), bind):
            base = f"http://{bind}/api/v1/ack"
            first = httpx.get(base, params={"token": token})
            again = httpx.get(base, params={"token": token})
            forged = httpx.get(base, params={"token": token[:-4] + "AAAA"})
        with psycopg.connect(fresh_db) as conn:
            acked = conn.execute(
                "SELECT acked_at FROM alert WHERE alert_id = %s", (alert["alert_id"],)
            ).fetchone()
    finally:
        pool.close()
        h.close()
    assert first.status_code == 200, first.text
    assert first.json()["outcome"] == "acknowledged"
    assert acked is not None and acked[0] is not None
    assert again.status_code == 410 and again.json()["error"]["code"] == "token_used"
    assert forged.status_code == 403
