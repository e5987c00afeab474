"""Deadlines on a controllable clock: reminders to the holder, listing when long overdue,
venues overdue for inspection reported to their grid."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import psycopg

from firewatch.cases import (
    CasesSettings,
    Reason,
    Stage,
    Supervision,
    apply_scan,
    dispatch,
    load,
    move,
    sweep,
)
from firewatch.cases.deadlines import ReminderReason
from firewatch.cases.inspections import Coverage, coverage
from firewatch.kernel.clock import ManualClock
from tests.cases.support import OPERATOR, T0, scan, seed

S = CasesSettings()
H, D = 3600, 86400


def store_inspection(url: str, venue_id: str, at: datetime, seq: int) -> None:
    """An inspection scan as ingest stores it (coverage reads venue_scan)."""
    with psycopg.connect(url) as conn:
        conn.execute(
            "INSERT INTO venue_scan (ts, received_at, venue_id, seq, scan_type, inspector, items)"
            " VALUES (%s, %s, %s, %s, 'inspection', 'INSP-7', %s)",
            (at, at, venue_id, seq, json.dumps([{"item": "gas_safe", "ok": True}])),
        )


def test_reminders_and_a_listing_proposal_follow_the_clock(fresh_db: str) -> None:
    seed(fresh_db)
    clock = ManualClock(T0)
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        case_id = (
            apply_scan(conn, scan("V-SHOP", T0, 1, failed=("wiring_safe",)), T0, S)
            .opened[0]
            .case_id
        )
        due = load(conn, case_id).due_at
        assert due == T0 + timedelta(days=7)

        def case_reminders() -> list[tuple[str, str, str]]:
            report = sweep(conn, clock.now(), S)
            return [(str(r.reason), r.to_kind, r.to_ref) for r in report.reminders if r.case_id]

        clock.advance(D)
        assert case_reminders() == []  # six days to go
        clock.advance(5 * D + 2 * H)  # 22 h before due
        assert case_reminders() == [("due_soon", "role", "operator")]  # reported: the control room
        assert case_reminders() == []  # the same sweep again: nothing new
        clock.advance(23 * H)  # an hour late
        assert case_reminders() == [("overdue", "role", "operator")]
        clock.advance(2 * H)
        assert case_reminders() == []  # one reminder a day
        move(conn, case_id, Stage.REGISTERED, OPERATOR, now=clock.now())
        dispatch(conn, case_id, ["construction_centre"], OPERATOR, now=clock.now(), settings=S)
        clock.advance(D)
        assert case_reminders() == [("overdue", "department", "construction_centre")]

        clock.advance(29 * D)  # 30 days and 3 hours late
        report = sweep(conn, clock.now(), S)
        assert report.proposals == ((case_id, Reason.LISTING_PROPOSED_OVERDUE),)
        assert [r.reason for r in report.reminders if r.case_id] == [ReminderReason.LONG_OVERDUE]
        case = load(conn, case_id)
        assert case.supervision is Supervision.STREET_PROPOSED
        assert case.history[-1].reason is Reason.LISTING_PROPOSED_OVERDUE
        assert sweep(conn, clock.now(), S).proposals == ()  # proposed once
        texts = [t for (_, kind, _, t) in _pending(conn) if kind == "department"]
        assert any("已超期 overdue" in t and "电气线路隐患" in t for t in texts)


def _pending(conn: psycopg.Connection) -> list[tuple[int, str, str, str]]:
    from firewatch.cases.reminders import pending

    return pending(conn)


def test_venues_not_inspected_in_their_cycle_are_reported_to_their_grid(fresh_db: str) -> None:
    seed(fresh_db)
    now = datetime.fromisoformat("2026-05-20T10:00:00+08:00")
    store_inspection(fresh_db, "V-HOME", now - timedelta(days=5), 1)  # monthly: covered
    store_inspection(fresh_db, "V-SHOP", now - timedelta(days=60), 1)  # quarterly: Q1 -> due
    store_inspection(fresh_db, "V-FLAT", now - timedelta(days=55), 1)  # monthly: March: overdue
    # V-FACT (half-yearly) was never inspected: overdue
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        states = {v.venue_id: v.state for v in coverage(conn, now, S.zone)}
        assert states == {
            "V-HOME": Coverage.COVERED,
            "V-SHOP": Coverage.DUE,
            "V-FLAT": Coverage.OVERDUE,
            "V-FACT": Coverage.OVERDUE,
        }
        report = sweep(conn, now, S)
        grid = sorted((r.to_ref, r.text) for r in report.reminders)
        assert [g for g, _ in grid] == ["G-2", "G-3"]  # V-FLAT's grid and V-FACT's grid
        assert "V-FLAT V-FLAT 店" in grid[0][1] and "未按周期检查" in grid[0][1]
        assert sweep(conn, now, S).reminders == ()  # once per grid and month
