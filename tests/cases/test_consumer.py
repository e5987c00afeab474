"""`CaseIntake`, the engine's entry points: batches, evidence, alerts, and catching up."""

from __future__ import annotations

import json
from datetime import timedelta

import psycopg

from firewatch.cases import CaseIntake, CasesSettings, OpenResult, ScanOutcome, Stage, load
from firewatch.ingest.stream import Batch
from firewatch.kernel.clock import ManualClock
from tests.cases.support import T0, evidence, scan, seed


def test_batches_evidence_and_alerts_through_the_intake(fresh_db: str) -> None:
    seed(fresh_db)
    clock = ManualClock(T0)
    with CaseIntake(lambda: psycopg.connect(fresh_db), clock, CasesSettings()) as intake:
        intake.consume(Batch((scan("V-SHOP", T0, 1, failed=("gas_safe",)),), (), T0))
        assert [a.outcome for a in intake.applied] == [ScanOutcome.CASES_OPENED]
        opened = intake.take_evidence([evidence("V-HOME", T0), evidence("V-HOME", T0)])
        assert [o.result for o in opened] == [OpenResult.OPENED, OpenResult.ALREADY_APPLIED]
        incident = intake.open_incident("AL-7", "V-FLAT", T0, "确认火警 confirmed fire")
        intake.close()  # a lost connection is reopened on the next call
        again = intake.open_incident("AL-7", "V-FLAT", T0, "确认火警 confirmed fire")
    assert again.result is OpenResult.ALREADY_APPLIED and again.case_id == incident.case_id
    with psycopg.connect(fresh_db) as conn:
        assert load(conn, incident.case_id).stage is Stage.REGISTERED


def test_scans_stored_but_never_applied_are_caught_up_once(fresh_db: str) -> None:
    seed(fresh_db)
    items = [
        {"item": "exits_unlocked", "ok": False, "note": "锁闭"},
        {"item": "gas_safe", "ok": True},
    ]
    with psycopg.connect(fresh_db) as conn:
        for seq, venue in enumerate(("V-SHOP", "V-FLAT")):
            conn.execute(
                "INSERT INTO venue_scan (ts, received_at, venue_id, seq, scan_type, inspector,"
                " items) VALUES (%s, %s, %s, %s, 'inspection', 'INSP-3', %s)",
                (T0, T0, venue, seq, json.dumps(items)),
            )
    clock = ManualClock(T0 + timedelta(hours=1))
    with CaseIntake(lambda: psycopg.connect(fresh_db), clock, CasesSettings()) as intake:
        first = intake.catch_up(T0 - timedelta(days=7))
        second = intake.catch_up(T0 - timedelta(days=7))
    assert [a.outcome for a in first] == [ScanOutcome.CASES_OPENED] * 2
    assert second == []
    with psycopg.connect(fresh_db) as conn:
        rows = conn.execute("SELECT venue_id, hazard FROM hazard_case ORDER BY venue_id").fetchall()
    assert rows == [("V-FLAT", "exit_locked"), ("V-SHOP", "exit_locked")]
