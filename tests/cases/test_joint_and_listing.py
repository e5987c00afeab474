"""Joint handling by several departments, and listed supervision decided with its approver."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import psycopg
import pytest

from firewatch.cases import (
    CasesSettings,
    IllegalMoveError,
    Level,
    PartState,
    Reason,
    Refusal,
    Stage,
    Supervision,
    apply_scan,
    decide_listing,
    dispatch,
    load,
    move,
    move_part,
)
from firewatch.cases.replay import replay
from firewatch.cases.supervision import supervision_list
from tests.cases.support import ADMIN, INSPECTOR, MARKET, OPERATOR, POLICE, T0, scan, seed

S = CasesSettings()
H = timedelta(hours=1)


@pytest.fixture
def conn(fresh_db: str) -> Iterator[psycopg.Connection]:
    seed(fresh_db)
    with psycopg.connect(fresh_db, autocommit=True) as connection:
        yield connection


def _registered(conn: psycopg.Connection, item: str = "no_lodging") -> str:
    case_id = apply_scan(conn, scan("V-SHOP", T0, 1, failed=(item,)), T0, S).opened[0].case_id
    move(conn, case_id, Stage.REGISTERED, OPERATOR, now=T0 + H)
    return case_id


def test_joint_handling_each_department_its_own_part(conn: psycopg.Connection) -> None:
    case_id = _registered(conn)
    departments = ["police_station", "market_supervision", "law_enforcement"]
    case = dispatch(conn, case_id, departments, OPERATOR, now=T0 + 2 * H, settings=S)
    assert case.stage is Stage.DISPATCHED
    assert [(p.department, p.state) for p in case.parts] == [
        (d, PartState.ASSIGNED) for d in sorted(departments)
    ]

    # A department moves its own part only.
    with pytest.raises(IllegalMoveError, match="not_your_department"):
        move_part(conn, case_id, "police_station", PartState.ACCEPTED, MARKET, now=T0 + 3 * H)
    # The first acceptance starts handling.
    case = move_part(conn, case_id, "police_station", PartState.ACCEPTED, POLICE, now=T0 + 3 * H)
    assert case.stage is Stage.HANDLING
    move_part(conn, case_id, "market_supervision", PartState.ACCEPTED, MARKET, now=T0 + 3 * H)
    case = move_part(
        conn,
        case_id,
        "law_enforcement",
        PartState.DECLINED,
        OPERATOR,
        now=T0 + 4 * H,
        note="不属城管职责",
    )
    case = move_part(conn, case_id, "police_station", PartState.DONE, POLICE, now=T0 + 5 * H)
    assert case.stage is Stage.HANDLING  # the market part is still open
    case = move_part(conn, case_id, "market_supervision", PartState.DONE, MARKET, now=T0 + 6 * H)
    assert case.stage is Stage.VERIFYING  # the last part done: to verification
    assert case.history[-1].reason is Reason.ALL_PARTS_DONE

    # Verification fails: the done parts are open again.
    case = move(conn, case_id, Stage.HANDLING, INSPECTOR, now=T0 + 7 * H, note="仍有人员住宿")
    assert {p.department: p.state for p in case.parts} == {
        "police_station": PartState.ACCEPTED,
        "market_supervision": PartState.ACCEPTED,
        "law_enforcement": PartState.DECLINED,
    }
    assert case.history[-1].reason is Reason.PARTS_REOPENED
    # The whole life, parts included, follows from the history.
    life = replay(load(conn, case_id).history)
    assert life.parts == {p.department: p.state for p in case.parts}
    assert (life.stage, life.version) == (case.stage, case.version)


def test_dispatch_refusals_name_the_problem(conn: psycopg.Connection) -> None:
    case_id = _registered(conn)
    with pytest.raises(IllegalMoveError, match=r"unknown_department.*police_station"):
        dispatch(conn, case_id, ["fire_brigade_hq"], OPERATOR, now=T0, settings=S)
    with pytest.raises(IllegalMoveError, match="role_not_allowed"):
        dispatch(conn, case_id, ["police_station"], INSPECTOR, now=T0, settings=S)
    # A configured list of departments is what counts.
    mine = CasesSettings(departments=("街道安监办", "police_station"))
    case = dispatch(conn, case_id, ["街道安监办"], OPERATOR, now=T0, settings=mine)
    assert [p.department for p in case.parts] == ["街道安监办"]
    # More departments can join a case already out; one already there is not added twice.
    case = dispatch(conn, case_id, ["街道安监办", "police_station"], ADMIN, now=T0, settings=mine)
    assert sorted(p.department for p in case.parts) == ["police_station", "街道安监办"]


def test_listing_street_then_district_with_the_approver_recorded(conn: psycopg.Connection) -> None:
    case_id = _registered(conn, "no_unauthorised_loft")
    case = decide_listing(conn, case_id, Level.STREET, OPERATOR, now=T0 + 2 * H, note="街道挂牌")
    assert case.supervision is Supervision.STREET and case.listed
    with pytest.raises(IllegalMoveError, match="district level is decided by admin"):
        decide_listing(conn, case_id, Level.DISTRICT, OPERATOR, now=T0 + 3 * H)
    case = decide_listing(conn, case_id, Level.DISTRICT, ADMIN, now=T0 + 3 * H, note="区级督办")
    assert case.supervision is Supervision.DISTRICT
    assert case.history[-1].data == {"level": "district", "approver": "u-admin"}
    rows = conn.execute(
        "SELECT level, state, decided_by, approver_role FROM case_listing WHERE case_id = %s"
        " ORDER BY listing_id",
        (case_id,),
    ).fetchall()
    assert rows == [
        ("street", "lifted", "u-op", "operator"),
        ("district", "listed", "u-admin", "admin"),
    ]
    assert supervision_list(conn) == [
        (case_id, "district", "listed", "V-SHOP 店", "unauthorised_loft")
    ]
    # Closing lifts the listing; the case still shows the level it reached.
    for stage in (Stage.DISPATCHED, Stage.HANDLING, Stage.VERIFYING):
        move(conn, case_id, stage, ADMIN, now=T0 + 4 * H)
    case = move(conn, case_id, Stage.CLOSED, INSPECTOR, now=T0 + 5 * H)
    assert case.supervision is Supervision.DISTRICT
    assert case.history[-1].reason is Reason.LISTING_LIFTED
    assert supervision_list(conn) == []


def test_a_rejected_proposal_and_a_stale_view(conn: psycopg.Connection) -> None:
    case_id = _registered(conn, "alarm_working")
    # An overdue case gets its proposal from the sweep; here one is proposed by hand.
    from firewatch.cases import store
    from firewatch.cases.supervision import propose

    case = load(conn, case_id)
    with conn.transaction():
        changes, entry = propose(conn, case, Reason.LISTING_PROPOSED_OVERDUE, T0)
        store.commit(conn, case, changes, [entry], T0)
    stale = case.version
    case = decide_listing(
        conn, case_id, Level.STREET, OPERATOR, now=T0, approve=False, note="已约谈,暂不挂牌"
    )
    assert case.supervision is Supervision.NONE
    assert case.history[-1].reason is Reason.LISTING_REJECTED
    from firewatch.cases import ConflictError

    with pytest.raises(ConflictError, match=f"expected version {stale}"):
        move(conn, case_id, Stage.DISPATCHED, OPERATOR, now=T0, expected_version=stale)
    with pytest.raises(IllegalMoveError) as caught:
        decide_listing(conn, case_id, Level.STREET, OPERATOR, now=T0, approve=False)
    assert caught.value.refusal is Refusal.NO_SUCH_MOVE
