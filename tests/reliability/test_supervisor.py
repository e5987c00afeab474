"""The supervisor's last try takes a failing batch apart: one record the rules stage cannot
take costs its own evidence, never that of the fire beside it in the same batch."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import psycopg

from firewatch.ingest.records import Reading
from firewatch.ingest.stream import Batch
from firewatch.kernel.clock import SystemClock
from firewatch.kernel.contract import DeviceKind
from firewatch.rules.engine import RuleEngine
from firewatch.rules.loader import DEFAULT_DIR, load_library
from firewatch.supervision import Fault, Supervisor


def alarm(device: str) -> Reading:
    now = datetime.now(UTC)
    return Reading(now, now, device, DeviceKind.SMOKE, f"V-{device}", "Xinhua", "G-1", "MS-1", 1,
                   smoke_obs=40.0, temp_c=75.0, co_ppm=400.0, alarm=True)  # fmt: skip


def test_one_poisoned_record_is_kept_aside_and_the_fire_beside_it_is_found(fresh_db: str) -> None:
    told: list[tuple[str, str, str, str]] = []
    supervisor = Supervisor(
        lambda: psycopg.connect(fresh_db), SystemClock(), "p1of1",
        lambda *notice: told.append(notice), ZoneInfo("Asia/Shanghai"),
        retries=1, first_backoff_s=0.01, fault=Fault("rules", "SMK-BAD"), stop=threading.Event(),
    )  # fmt: skip
    rules = RuleEngine(load_library(DEFAULT_DIR), zone=ZoneInfo("Asia/Shanghai"))
    batch = Batch((alarm("SMK-BAD"), alarm("SMK-FIRE")), (), datetime.now(UTC), 42)

    evidence = supervisor.run_split("rules", batch, rules.evaluate)

    assert evidence and {e.subject_id for e in evidence} == {"SMK-FIRE"}
    with psycopg.connect(fresh_db) as conn:
        kept = conn.execute("SELECT stage, pos, attempts, item FROM quarantined_batch").fetchall()
    assert len(kept) == 1
    stage, pos, attempts, item = kept[0]
    assert (stage, pos, attempts) == ("rules", 42, 2) and "SMK-BAD" in item
    assert [t[2] for t in told] == ["引擎降级"]
    assert supervisor.health("rules").startswith("failing since")
    # The next batch goes through: the stage is no longer failing, but stays marked degraded
    # (something is in quarantine for a person to look at).
    assert supervisor.run_split("rules", Batch((alarm("SMK-2"),), (), datetime.now(UTC), 43),
                                rules.evaluate)  # fmt: skip
    assert supervisor.health("rules").startswith("degraded: 1 batch(es) quarantined")
