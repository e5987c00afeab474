"""The workflow table: every stage move for every role, decided purely and applied to the store."""

from __future__ import annotations

import itertools

import psycopg
import pytest

from firewatch.cases import IllegalMoveError, move
from firewatch.cases.opening import Finding, open_case
from firewatch.cases.records import SYSTEM, Actor, Kind, Reason, Refusal, Role, Source, Stage
from firewatch.cases.settings import CasesSettings
from firewatch.cases.workflow import decide_move
from tests.cases.support import T0, seed

_A, _O, _S, _I, _D, _V, _X = (
    Role.ADMIN,
    Role.OPERATOR,
    Role.STATION,
    Role.INSPECTOR,
    Role.DEPARTMENT,
    Role.VIEWER,
    Role.SYSTEM,
)

# Written out by hand from the issue, independently of cases.workflow.MOVES.
LEGAL: list[tuple[Stage, Stage, set[Role], Reason]] = [
    # whoever found it reports it: inspectors, stations, the control room, the engine
    (Stage.DISCOVERED, Stage.REPORTED, {_A, _O, _S, _I, _X}, Reason.REPORTED),
    # the control room registers (立案); the engine too, for confirmed fire alerts
    (Stage.REPORTED, Stage.REGISTERED, {_A, _O, _X}, Reason.REGISTERED),
    # only the control room dispatches (派遣)
    (Stage.REGISTERED, Stage.DISPATCHED, {_A, _O}, Reason.DISPATCHED),
    # departments and stations start handling what they were sent
    (Stage.DISPATCHED, Stage.HANDLING, {_A, _O, _S, _D, _X}, Reason.HANDLING_STARTED),
    # and ask for verification when done
    (Stage.HANDLING, Stage.VERIFYING, {_A, _O, _S, _D, _X}, Reason.SUBMITTED_FOR_VERIFICATION),
    # a rectification scan (the engine) sends a case to verification from earlier stages too
    (Stage.REPORTED, Stage.VERIFYING, {_X}, Reason.RECTIFICATION_SCAN),
    (Stage.REGISTERED, Stage.VERIFYING, {_X}, Reason.RECTIFICATION_SCAN),
    (Stage.DISPATCHED, Stage.VERIFYING, {_X}, Reason.RECTIFICATION_SCAN),
    # inspectors (and the control room) verify: closed ...
    (Stage.VERIFYING, Stage.CLOSED, {_A, _O, _I}, Reason.VERIFIED_CLOSED),
    # ... or returned to handling
    (Stage.VERIFYING, Stage.HANDLING, {_A, _O, _I}, Reason.VERIFICATION_FAILED),
] + [
    # any open case can be cancelled as a false report, by the control room, with a reason
    (stage, Stage.CANCELLED, {_A, _O}, Reason.CANCELLED_FALSE_REPORT)
    for stage in Stage
    if not stage.terminal
]
ROLES = list(Role)
_LEGAL = {(frm, to): (roles, reason) for frm, to, roles, reason in LEGAL}


@pytest.mark.parametrize(
    ("frm", "to", "role"), list(itertools.product(Stage, Stage, ROLES)), ids=str
)
def test_every_move_for_every_role(frm: Stage, to: Stage, role: Role) -> None:
    decision = decide_move(frm, to, role, "误报: a false report")
    rule = _LEGAL.get((frm, to))
    if frm.terminal:
        assert decision is Refusal.TERMINAL  # nothing moves a closed or cancelled case
    elif rule is None:
        assert decision is Refusal.NO_SUCH_MOVE
    elif role in rule[0]:
        assert decision is rule[1]
    else:
        assert decision is Refusal.ROLE_NOT_ALLOWED


def test_cancelling_needs_a_reason() -> None:
    assert (
        decide_move(Stage.HANDLING, Stage.CANCELLED, Role.OPERATOR, "  ") is Refusal.NOTE_REQUIRED
    )


# --- the same table, applied to the store ------------------------------------------------------

# A path from the opening (discovered) to each stage, walked by the admin and the engine.
PATHS: dict[Stage, list[Stage]] = {
    Stage.DISCOVERED: [],
    Stage.REPORTED: [Stage.REPORTED],
    Stage.REGISTERED: [Stage.REPORTED, Stage.REGISTERED],
    Stage.DISPATCHED: [Stage.REPORTED, Stage.REGISTERED, Stage.DISPATCHED],
    Stage.HANDLING: [Stage.REPORTED, Stage.REGISTERED, Stage.DISPATCHED, Stage.HANDLING],
    Stage.VERIFYING: [
        Stage.REPORTED,
        Stage.REGISTERED,
        Stage.DISPATCHED,
        Stage.HANDLING,
        Stage.VERIFYING,
    ],
    Stage.CLOSED: [
        Stage.REPORTED,
        Stage.REGISTERED,
        Stage.DISPATCHED,
        Stage.HANDLING,
        Stage.VERIFYING,
        Stage.CLOSED,
    ],
}


def _case_at(conn: psycopg.Connection, stage: Stage, n: int) -> str:
    finding = Finding(
        "V-SHOP",
        f"hazard_{n}",
        Kind.HAZARD,
        Source.MANUAL,
        f"manual-{n}",
        T0,
        Actor("u-insp", Role.INSPECTOR),
        "手工上报",
    )
    case_id = open_case(conn, finding, T0, CasesSettings()).case_id
    for step in PATHS[stage]:
        actor = Actor("u-admin", Role.ADMIN)
        move(conn, case_id, step, actor, now=T0)
    return case_id


def test_every_legal_move_per_role_in_the_store(fresh_db: str) -> None:
    seed(fresh_db)
    counter = itertools.count()
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        for (frm, to), (roles, reason) in _LEGAL.items():
            for role in ROLES:
                case_id = _case_at(conn, frm, next(counter))
                actor = SYSTEM if role is Role.SYSTEM else Actor(f"u-{role}", role)
                if role in roles:
                    case = move(conn, case_id, to, actor, now=T0, note="误报 false report")
                    assert case.stage is to
                    assert case.history[-1].reason is reason
                    assert (case.history[-1].actor, case.history[-1].role) == (actor.actor_id, role)
                else:
                    with pytest.raises(
                        IllegalMoveError, match=f"{role} may not move it from {frm}"
                    ):
                        move(conn, case_id, to, actor, now=T0, note="误报 false report")
                    row = conn.execute(
                        "SELECT stage FROM hazard_case WHERE case_id = %s", (case_id,)
                    ).fetchone()
                    assert row == (str(frm),)  # refused: nothing changed


def test_an_illegal_move_names_what_is_allowed(fresh_db: str) -> None:
    seed(fresh_db)
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        case_id = _case_at(conn, Stage.VERIFYING, 1)
        with pytest.raises(IllegalMoveError) as caught:
            move(conn, case_id, Stage.DISPATCHED, Actor("u-insp", Role.INSPECTOR), now=T0)
        closed = _case_at(conn, Stage.CLOSED, 2)
        with pytest.raises(IllegalMoveError, match="terminal"):
            move(conn, closed, Stage.HANDLING, Actor("u-admin", Role.ADMIN), now=T0)
    message = str(caught.value)
    assert caught.value.refusal is Refusal.NO_SUCH_MOVE
    assert "inspector may not move it from verifying to dispatched" in message
    assert "核查" in message and "closed, handling" in message
