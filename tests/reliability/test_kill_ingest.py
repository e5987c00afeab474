"""Kill -9 of the engine during a QoS 1 flood: after a restart every message is stored once."""

from __future__ import annotations

import secrets
import time
from pathlib import Path

import psycopg
import pytest

from tests.ingest.seed import seed_registry
from tests.reliability.engine_process import EngineProcess
from tests.reliability.flood import Flood
from tests.support.mosquitto import PrivateMosquitto

DEVICES = {f"FLOOD-{n:03d}": ("smoke", "V-HOME") for n in range(50)}
TOTAL = 20_000


def stored(url: str) -> tuple[int, int]:
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT count(*), count(DISTINCT (device_id, seq)) FROM reading"
        ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


@pytest.mark.slow
def test_kill_9_during_a_flood_loses_nothing_and_stores_nothing_twice(
    fresh_db: str, engine_broker: PrivateMosquitto, tmp_path: Path
) -> None:
    seed_registry(fresh_db, DEVICES)
    engine = EngineProcess(fresh_db, engine_broker.url, f"fw-kill-{secrets.token_hex(3)}", tmp_path)
    try:
        engine.start()
        flood = Flood(engine_broker.port, list(DEVICES), TOTAL, rate=8000)
        flood.start()
        kills = 0
        for threshold in (3000, 9000):  # kill twice, each time well inside the flood
            deadline = time.monotonic() + 60
            while stored(fresh_db)[0] < threshold and time.monotonic() < deadline:
                time.sleep(0.02)
            engine.kill()
            kills += 1
            time.sleep(0.5)  # messages keep arriving at the broker while the engine is dead
            engine.start()
        flood.check()
        deadline = time.monotonic() + 60
        while stored(fresh_db)[0] < TOTAL and time.monotonic() < deadline:
            time.sleep(0.1)
        rows, distinct = stored(fresh_db)
        assert kills == 2
        assert rows == distinct == TOTAL, engine.log_tail()
        assert engine.terminate() == 0, "SIGTERM drains and exits cleanly"
    finally:
        engine.stop()
