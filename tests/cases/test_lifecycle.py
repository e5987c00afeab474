"""Cases against the real store: opening from scans, evidence and alerts, rectification,
verification, recurrence, and the history that tells the whole life."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import psycopg
import pytest

from firewatch.cases import (
    CaseError,
    CasesSettings,
    ConfirmedAlert,
    OpenResult,
    Reason,
    ScanOutcome,
    Stage,
    Supervision,
    apply_evidence,
    apply_scan,
    load,
    move,
    open_incident,
)
from firewatch.cases.replay import replay
from firewatch.kernel.contract import Level
from tests.cases.support import ADMIN, INSPECTOR, OPERATOR, T0, evidence, scan, seed

S = CasesSettings()
H, D = timedelta(hours=1), timedelta(days=1)


@pytest.fixture
def conn(fresh_db: str) -> Iterator[psycopg.Connection]:
    seed(fresh_db)
    with psycopg.connect(fresh_db, autocommit=True) as connection:
        yield connection


def _count(conn: psycopg.Connection, query: str, *args: object) -> int:
    row = conn.execute(query, args).fetchone()
    assert row is not None
    return int(row[0])


def test_failed_items_open_one_case_per_hazard_and_finding_again_updates_it(
    conn: psycopg.Connection,
) -> None:
    first = apply_scan(conn, scan("V-SHOP", T0, 1, failed=("exits_unlocked", "wiring_safe")), T0, S)
    assert first.outcome is ScanOutcome.CASES_OPENED
    assert [o.result for o in first.opened] == [OpenResult.OPENED, OpenResult.OPENED]
    exit_case = load(conn, first.opened[0].case_id)
    assert (exit_case.hazard, exit_case.stage, exit_case.community) == (
        "exit_locked",
        Stage.REPORTED,
        "梅园",
    )
    assert exit_case.due_at == T0 + 24 * H  # a locked exit is immediate
    assert exit_case.case_id.startswith("HC-20260504-")

    again = apply_scan(conn, scan("V-SHOP", T0 + D, 2, failed=("exits_unlocked",)), T0 + D, S)
    assert again.opened[0].result is OpenResult.FOUND_AGAIN
    assert again.opened[0].case_id == exit_case.case_id
    updated = load(conn, exit_case.case_id)
    assert (updated.found_count, updated.last_found_at) == (2, T0 + D)
    assert updated.history[-1].reason is Reason.FOUND_AGAIN
    assert _count(conn, "SELECT count(*) FROM hazard_case") == 2

    # The same scan delivered twice (a replay) changes nothing.
    assert (
        apply_scan(conn, scan("V-SHOP", T0 + D, 2, failed=("exits_unlocked",)), T0 + D, S).outcome
        is ScanOutcome.ALREADY_APPLIED
    )
    assert load(conn, exit_case.case_id).found_count == 2


def test_sensor_evidence_and_a_scan_of_the_same_hazard_share_one_case(
    conn: psycopg.Connection,
) -> None:
    opened = apply_evidence(conn, evidence("V-HOME", T0), T0, S)
    assert opened is not None and opened.result is OpenResult.OPENED
    case = load(conn, opened.case_id)
    assert (case.hazard, case.source, case.due_at) == (
        "indoor_ebike_charging",
        "evidence",
        T0 + 3 * D,
    )
    assert case.history[0].actor == "rule:indoor_charging"
    assert case.history[0].attachments == ("device:CHG-1",)
    # The inspector's checklist says the same thing: found again, not a second case.
    applied = apply_scan(
        conn, scan("V-HOME", T0 + H, 1, failed=("no_indoor_ebike_charging",)), T0 + H, S
    )
    assert applied.opened[0].case_id == opened.case_id
    assert applied.opened[0].result is OpenResult.FOUND_AGAIN
    # The same evidence handed over twice is applied once.
    assert apply_evidence(conn, evidence("V-HOME", T0), T0, S).result is (  # type: ignore[union-attr]
        OpenResult.ALREADY_APPLIED
    )
    # Fire and trouble evidence is not the cases stage's.
    from firewatch.rules.evidence import Category

    assert apply_evidence(conn, evidence("V-HOME", T0, category=Category.FIRE), T0, S) is None


def test_a_confirmed_fire_alert_opens_a_registered_incident_case(conn: psycopg.Connection) -> None:
    alert = ConfirmedAlert("AL-1", "V-FLAT", T0, "烟感报警已确认 confirmed smoke alarm, 一楼")
    opened = open_incident(conn, alert, T0 + timedelta(seconds=5), S)
    case = load(conn, opened.case_id)
    assert case.case_id.startswith("IC-20260504-")
    assert (case.kind, case.stage, case.hazard, case.summary) == (
        "incident",
        Stage.REGISTERED,
        "fire_incident",
        alert.summary,
    )
    assert [e.reason for e in case.history] == [
        Reason.OPENED_FROM_ALERT,
        Reason.REPORTED,
        Reason.REGISTERED,
    ]
    assert case.history[0].attachments == ("alert:AL-1",)
    assert open_incident(conn, alert, T0, S).result is OpenResult.ALREADY_APPLIED


def test_a_confirmed_gas_leak_opens_a_gas_leak_incident(conn: psycopg.Connection) -> None:
    """A kitchen's leak is followed up as a gas leak, not a fire; the venue's fire alert opened
    later (smoke, heat) is a fire incident of its own."""
    gas = ConfirmedAlert("AL-2", "V-FLAT", T0, "确认燃气泄漏", frozenset({"lel"}))
    case = load(conn, open_incident(conn, gas, T0, S).case_id)
    assert (case.kind, case.stage, case.hazard) == ("incident", Stage.REGISTERED,
                                                    "gas_leak_incident")  # fmt: skip
    fire = ConfirmedAlert("AL-3", "V-FLAT", T0, "确认火警", frozenset({"smoke", "heat"}))
    assert load(conn, open_incident(conn, fire, T0, S).case_id).hazard == "fire_incident"


def test_unknown_venue_is_refused_with_its_name(conn: psycopg.Connection) -> None:
    with pytest.raises(CaseError, match="venue V-NOPE: it is not in the registry"):
        open_incident(conn, ConfirmedAlert("AL-9", "V-NOPE", T0, "x"), T0, S)


def test_rectification_moves_cases_to_verifying_and_the_inspector_closes_or_returns(
    conn: psycopg.Connection,
) -> None:
    found = apply_scan(
        conn, scan("V-SHOP", T0, 1, failed=("exits_unlocked", "gas_safe", "wiring_safe")), T0, S
    )
    exit_id, gas_id, wiring_id = (o.case_id for o in found.opened)
    fixed_at = T0 + 6 * H
    rect = scan(
        "V-SHOP",
        fixed_at,
        2,
        ok=("gas_safe",),
        scan_type="rectification",
        case_id=exit_id,
        inspector="OWNER-1",
    )
    applied = apply_scan(conn, rect, fixed_at, S)
    assert applied.outcome is ScanOutcome.RECTIFIED
    assert set(applied.rectified) == {exit_id, gas_id}
    exit_case, gas_case = load(conn, exit_id), load(conn, gas_id)
    assert exit_case.stage is gas_case.stage is Stage.VERIFYING
    assert exit_case.history[-1].reason is Reason.RECTIFICATION_SCAN  # named by the scan
    assert gas_case.history[-1].reason is Reason.RECTIFICATION_ITEM  # its item reported fixed
    assert exit_case.history[-1].at == fixed_at
    assert exit_case.history[-1].actor == "scan:OWNER-1"
    assert load(conn, wiring_id).stage is Stage.REPORTED  # not named, item not reported

    closed = move(
        conn,
        exit_id,
        Stage.CLOSED,
        INSPECTOR,
        now=fixed_at + H,
        note="复查合格",
        attachments=("photo:abc.jpg",),
    )
    assert (closed.stage, closed.closed_at) == (Stage.CLOSED, fixed_at + H)
    assert closed.history[-1].attachments == ("photo:abc.jpg",)
    returned = move(conn, gas_id, Stage.HANDLING, INSPECTOR, now=fixed_at + H, note="仍有漏气")
    assert returned.history[-1].reason is Reason.VERIFICATION_FAILED

    # A rectification naming no open case and no item of one is recorded as unmatched.
    stray = scan(
        "V-SHOP",
        fixed_at + 2 * H,
        3,
        ok=("alarm_working",),
        scan_type="rectification",
        case_id="CASE-V-SHOP-20260504",
    )
    assert apply_scan(conn, stray, fixed_at, S).outcome is ScanOutcome.RECTIFICATION_UNMATCHED
    assert (
        _count(
            conn, "SELECT count(*) FROM case_scan_applied WHERE outcome = 'rectification_unmatched'"
        )
        == 1
    )


def test_a_rectification_cannot_move_another_venues_case(conn: psycopg.Connection) -> None:
    other = apply_scan(conn, scan("V-FLAT", T0, 1, failed=("gas_safe",)), T0, S).opened[0]
    rect = scan("V-SHOP", T0 + H, 2, ok=(), scan_type="rectification", case_id=other.case_id)
    assert apply_scan(conn, rect, T0 + H, S).outcome is ScanOutcome.RECTIFICATION_UNMATCHED
    assert load(conn, other.case_id).stage is Stage.REPORTED


def _close(conn: psycopg.Connection, case_id: str, at: object) -> None:
    for stage in (Stage.REGISTERED, Stage.DISPATCHED, Stage.HANDLING, Stage.VERIFYING):
        move(conn, case_id, stage, ADMIN, now=at)  # type: ignore[arg-type]
    move(conn, case_id, Stage.CLOSED, INSPECTOR, now=at)  # type: ignore[arg-type]


def test_a_hazard_back_within_90_days_of_closure_is_proposed_for_listing(
    conn: psycopg.Connection,
) -> None:
    first = apply_scan(conn, scan("V-SHOP", T0, 1, failed=("no_flammables_stored",)), T0, S)
    first_id = first.opened[0].case_id
    _close(conn, first_id, T0 + D)
    back_at = T0 + D + 60 * D
    again = apply_scan(
        conn, scan("V-SHOP", back_at, 2, failed=("no_flammables_stored",)), back_at, S
    ).opened[0]
    assert again.result is OpenResult.OPENED and again.case_id != first_id
    assert again.listing is Reason.LISTING_PROPOSED_RECURRENCE
    case = load(conn, again.case_id)
    assert (case.recurrence_of, case.supervision) == (first_id, Supervision.STREET_PROPOSED)
    assert case.history[-1].data == {"previous_case": first_id}
    listing = conn.execute(
        "SELECT level, state, reason FROM case_listing WHERE case_id = %s", (case.case_id,)
    ).fetchall()
    assert listing == [("street", "proposed", "listing_proposed_recurrence")]
    # The same hazard at another venue, or back after 91 days, is no relapse.
    _close(conn, again.case_id, back_at + D)
    late = back_at + D + 91 * D
    third = apply_scan(conn, scan("V-SHOP", late, 3, failed=("no_flammables_stored",)), late, S)
    assert third.opened[0].listing is None
    assert load(conn, third.opened[0].case_id).recurrence_of is None


def test_history_is_append_only_in_the_database(conn: psycopg.Connection) -> None:
    case_id = apply_scan(conn, scan("V-SHOP", T0, 1, failed=("gas_safe",)), T0, S).opened[0].case_id
    for statement in (
        "UPDATE case_history SET note = 'rewritten' WHERE case_id = %s",
        "DELETE FROM case_history WHERE case_id = %s",
    ):
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
            conn.execute(statement, (case_id,))
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="TRUNCATE refused"):
        conn.execute("TRUNCATE case_history CASCADE")
    assert _count(conn, "SELECT count(*) FROM case_history WHERE case_id = %s", case_id) == 2


def test_the_history_reconstructs_the_whole_life(conn: psycopg.Connection) -> None:
    case_id = apply_scan(conn, scan("V-SHOP", T0, 1, failed=("gas_safe",)), T0, S).opened[0].case_id
    apply_scan(conn, scan("V-SHOP", T0 + H, 2, failed=("gas_safe",)), T0 + H, S)
    move(conn, case_id, Stage.REGISTERED, OPERATOR, now=T0 + 2 * H)
    move(conn, case_id, Stage.DISPATCHED, OPERATOR, now=T0 + 3 * H)
    move(conn, case_id, Stage.HANDLING, OPERATOR, now=T0 + 4 * H)
    move(conn, case_id, Stage.VERIFYING, OPERATOR, now=T0 + 5 * H)
    move(conn, case_id, Stage.HANDLING, INSPECTOR, now=T0 + 6 * H, note="未整改到位")
    move(conn, case_id, Stage.VERIFYING, OPERATOR, now=T0 + 7 * H)
    case = move(conn, case_id, Stage.CLOSED, INSPECTOR, now=T0 + 8 * H)
    life = replay(case.history)
    assert (life.stage, life.found_count, life.opened_at, life.closed_at, life.version) == (
        case.stage,
        case.found_count,
        case.opened_at,
        case.closed_at,
        case.version,
    )
    assert [(e.from_stage, e.to_stage) for e in case.history] == [
        (None, Stage.DISCOVERED),
        (Stage.DISCOVERED, Stage.REPORTED),
        (Stage.REPORTED, Stage.REPORTED),  # found again
        (Stage.REPORTED, Stage.REGISTERED),
        (Stage.REGISTERED, Stage.DISPATCHED),
        (Stage.DISPATCHED, Stage.HANDLING),
        (Stage.HANDLING, Stage.VERIFYING),
        (Stage.VERIFYING, Stage.HANDLING),
        (Stage.HANDLING, Stage.VERIFYING),
        (Stage.VERIFYING, Stage.CLOSED),
    ]
    assert [e.actor for e in case.history][-2:] == ["u-op", "u-insp"]
    assert case.history[7].note == "未整改到位"


def test_the_rules_scan_evidence_and_the_scan_itself_are_one_finding(
    conn: psycopg.Connection,
) -> None:
    """The rules stage also turns failed items into hazard evidence; whichever arrives first
    opens the case, and the other is recognised as the same finding."""
    from firewatch.rules.evidence import Category, Evidence, ReadingRef, Scope

    def scan_rule(venue: str, seq: int, item: str) -> Evidence:
        ref = ReadingRef(venue, T0, seq, f"items.{item}", False, "venue_scan")
        return Evidence(
            "scan_failed",
            1,
            Category.HAZARD,
            Level.YELLOW,
            Scope.VENUE,
            venue,
            venue,
            (),
            T0,
            f"{item} failed",
            (ref,),
            hazard=item,
        )

    rule_first = apply_evidence(conn, scan_rule("V-SHOP", 1, "exits_unlocked"), T0, S)
    assert rule_first is not None and rule_first.result is OpenResult.OPENED
    applied = apply_scan(conn, scan("V-SHOP", T0, 1, failed=("exits_unlocked",)), T0, S)
    assert applied.opened[0].result is OpenResult.ALREADY_APPLIED
    assert applied.opened[0].case_id == rule_first.case_id

    apply_scan(conn, scan("V-FLAT", T0, 2, failed=("no_lodging",)), T0, S)
    scan_first = apply_evidence(conn, scan_rule("V-FLAT", 2, "no_lodging"), T0, S)
    assert scan_first is not None and scan_first.result is OpenResult.ALREADY_APPLIED
    with psycopg.connect(conn.info.dsn) as other:
        rows = other.execute(
            "SELECT venue_id, hazard, found_count FROM hazard_case ORDER BY venue_id"
        ).fetchall()
    assert rows == [("V-FLAT", "lodging", 1), ("V-SHOP", "exit_locked", 1)]
