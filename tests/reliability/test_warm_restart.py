"""A restart in the middle of a slowly developing smouldering fire (issue 15, warm state).

`smoke.smoulder` needs CO and a rise of obscuration of 1.5 %/m within ten minutes: its window
lives in the rules engine's memory. Two detectors smoulder alike, a reading per minute of device
time (sent a few tenths of a second apart, time-stamped in the recent past); the engine runs
through one of them and is killed (-9) and restarted in the middle of the other. The restarted
engine rebuilds the window from the stored history, so the second fire is found at the same
reading as the first: no later than without the restart, plus the restart itself. A cold start
would have needed ten more minutes of readings, and would not have found this one at all.
"""

from __future__ import annotations

import secrets
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from firewatch.kernel import topics
from tests.ingest.publish import publish_all
from tests.reliability.engine_process import EngineProcess
from tests.reliability.homes import seed_homes
from tests.reliability.test_kill_alerts import rows, wait_for
from tests.support.mosquitto import PrivateMosquitto

pytestmark = pytest.mark.slow

READINGS = 10
KILL_AFTER = 4  # readings 0..4 are stored before the kill, 5.. after the restart
PACE_S = 0.5


def seed(url: str) -> None:
    seed_homes(url, "MS-W", "+8613910000001", {"W-A": "SMK-A", "W-B": "SMK-B"})


def reading(start: datetime, k: int) -> dict[str, object]:
    """A smouldering bed: CO over 30 ppm, obscuration creeping up 0.225 %/m each minute."""
    ts = (start + timedelta(minutes=k)).isoformat()
    return {"ts": ts, "seq": k, "smoke_obs": round(0.2 + 0.225 * k, 3), "co_ppm": 35,
            "temp_c": 24, "alarm": False}  # fmt: skip


def found_at(url: str, venue: str) -> bool:
    return bool(rows(url, "SELECT 1 FROM alert WHERE venue_id = %s", venue))


def smoulder(
    url: str, port: int, device: str, venue: str, restart: EngineProcess | None
) -> tuple[int | None, float, float]:
    """Send the fire's readings; the reading after which its alert existed, the seconds from
    the first reading to the alert, and how long the restart took (0 without one)."""
    start = datetime.now(UTC) - timedelta(minutes=12)
    began = time.monotonic()
    restart_s = 0.0
    for k in range(READINGS):
        publish_all(port, [(topics.reading("smoke", device), reading(start, k))])

        def stored(k: int = k) -> list[dict[str, object]]:
            return rows(url, "SELECT 1 FROM reading WHERE device_id = %s AND seq = %s", device, k)

        wait_for(stored, f"{device} reading {k} stored", device, 20, poll=0.01)
        if restart is not None and k == KILL_AFTER:
            before = time.monotonic()
            restart.kill()
            restart.start()
            restart_s = time.monotonic() - before
        time.sleep(PACE_S)
        if found_at(url, venue):
            return k, time.monotonic() - began, restart_s
    return None, time.monotonic() - began, restart_s


def test_a_restart_mid_smoulder_finds_the_fire_no_later(
    fresh_db: str, engine_broker: PrivateMosquitto, tmp_path: Path
) -> None:
    seed(fresh_db)
    engine = EngineProcess(fresh_db, engine_broker.url, f"fw-w-{secrets.token_hex(3)}", tmp_path)
    try:
        engine.start()
        plain_k, plain_s, _ = smoulder(fresh_db, engine_broker.port, "SMK-A", "W-A", None)
        assert plain_k is not None, "the smouldering fire was not found even without a restart"
        warm_k, warm_s, restart_s = smoulder(fresh_db, engine_broker.port, "SMK-B", "W-B", engine)
        log = engine.log_tail(60)
    finally:
        engine.stop()
    assert warm_k is not None, "after the restart the smouldering fire was never found"
    assert warm_k <= plain_k, (warm_k, plain_k)
    assert warm_s <= plain_s + restart_s + 1.0, (warm_s, plain_s, restart_s)
    assert "warm-up:" in log and "rebuilt rule windows" in log, log
    evidence = rows(fresh_db, "SELECT subject_id FROM evidence WHERE rule_id = 'smoke.smoulder'")
    assert {e["subject_id"] for e in evidence} == {"SMK-A", "SMK-B"}
