"""Evidence for one venue from concurrent workers, within milliseconds: exactly one alert.

Real concurrent connections: each worker has its own, all start together at a barrier, and
all take a fire signal for the same venue at once (several for each of its two detectors).
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest

from firewatch.alerting import Env, load_directory
from firewatch.alerting.intake import from_evidence
from firewatch.alerting.process import take_signal
from firewatch.alerting.records import Signal
from firewatch.kernel.contract import Level
from tests.alerting.support import SETTINGS, T0, evidence, seed

WORKERS = 12


@pytest.mark.parametrize("level", [Level.ORANGE, Level.RED])
def test_concurrent_evidence_for_one_venue_opens_exactly_one_alert(
    fresh_db: str, level: Level
) -> None:
    seed(fresh_db)
    with psycopg.connect(fresh_db) as conn:
        env = Env(SETTINGS, load_directory(conn))
    barrier = threading.Barrier(WORKERS)
    connections = [psycopg.connect(fresh_db, autocommit=True) for _ in range(WORKERS)]

    def work(n: int) -> str | None:
        signal = from_evidence(evidence("SMK-1" if n % 2 else "SMK-2", T0, level))
        assert isinstance(signal, Signal)
        barrier.wait()
        return take_signal(connections[n], signal, T0, env).alert_id

    try:
        with ThreadPoolExecutor(WORKERS) as pool:
            ids = list(pool.map(work, range(WORKERS)))
    finally:
        for c in connections:
            c.close()
    with psycopg.connect(fresh_db) as conn:
        alerts = conn.execute("SELECT alert_id, signals, state FROM alert").fetchall()
        signals = conn.execute("SELECT count(*) FROM alert_signal").fetchone()
        devices = conn.execute("SELECT count(*) FROM alert_device").fetchone()
        confirmed = conn.execute(
            "SELECT count(*) FROM notification WHERE purpose = 'confirmed' AND channel = 'sms'"
        ).fetchone()
    assert len(alerts) == 1, alerts
    alert_id, count, state = alerts[0]
    assert set(ids) == {alert_id}  # every worker's evidence went into it
    assert (count, signals, devices) == (WORKERS, (WORKERS,), (2,))
    # two detectors at once corroborate (or red confirms): confirmed once, the station told once
    assert state == "confirmed"
    assert confirmed == (3,)  # two station phones and the venue contact, one SMS each


def test_the_database_itself_refuses_a_second_open_alert(fresh_db: str) -> None:
    seed(fresh_db)
    insert = (
        "INSERT INTO alert (alert_id, venue_id, kind, level, state, policy, opened_at, summary,"
        " last_signal_at) VALUES (%s, 'V-HOME', 'fire', 'orange', 'pending', 'persistence',"
        " now(), '', now())"
    )
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute(insert, ("AL-A",))
        with pytest.raises(psycopg.errors.UniqueViolation):
            conn.execute(insert, ("AL-B",))
