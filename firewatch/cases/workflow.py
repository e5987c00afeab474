"""Who may make which move: the workflow as tables, and pure decisions returning a reason.

`decide_move` answers a stage move with the `Reason` stored in the history, or a `Refusal`;
`decide_part` does the same for one department's part of a jointly handled case. Nothing here
touches the database: `cases.moves` applies what these allow.

>>> decide_move(Stage.VERIFYING, Stage.CLOSED, Role.INSPECTOR, "")
<Reason.VERIFIED_CLOSED: 'verified_closed'>
>>> decide_move(Stage.VERIFYING, Stage.CLOSED, Role.DEPARTMENT, "")
<Refusal.ROLE_NOT_ALLOWED: 'role_not_allowed'>
"""

from __future__ import annotations

from typing import Final

from firewatch.cases.records import Actor, PartState, Reason, Refusal, Role, Stage

_A, _O, _S, _I, _D, _X = (
    Role.ADMIN,
    Role.OPERATOR,
    Role.STATION,
    Role.INSPECTOR,
    Role.DEPARTMENT,
    Role.SYSTEM,
)

MOVES: Final[dict[tuple[Stage, Stage], tuple[Reason, frozenset[Role]]]] = {
    # whoever found it reports it (the engine does for scans, sensors and alerts)
    (Stage.DISCOVERED, Stage.REPORTED): (Reason.REPORTED, frozenset({_A, _O, _S, _I, _X})),
    # the control room registers (立案); the engine only for confirmed fire alerts
    (Stage.REPORTED, Stage.REGISTERED): (Reason.REGISTERED, frozenset({_A, _O, _X})),
    # the control room dispatches (派遣) to departments or the station
    (Stage.REGISTERED, Stage.DISPATCHED): (Reason.DISPATCHED, frozenset({_A, _O})),
    # whoever was dispatched starts handling (the engine when a department accepts its part)
    (Stage.DISPATCHED, Stage.HANDLING): (Reason.HANDLING_STARTED, frozenset({_A, _O, _S, _D, _X})),
    # handled: ask for verification (the engine when the last part is done)
    (Stage.HANDLING, Stage.VERIFYING): (
        Reason.SUBMITTED_FOR_VERIFICATION,
        frozenset({_A, _O, _S, _D, _X}),
    ),
    # a venue's rectification scan sends an open case to verification from any earlier stage
    (Stage.REPORTED, Stage.VERIFYING): (Reason.RECTIFICATION_SCAN, frozenset({_X})),
    (Stage.REGISTERED, Stage.VERIFYING): (Reason.RECTIFICATION_SCAN, frozenset({_X})),
    (Stage.DISPATCHED, Stage.VERIFYING): (Reason.RECTIFICATION_SCAN, frozenset({_X})),
    # an inspector (or the control room) verifies: closed, or back to handling
    (Stage.VERIFYING, Stage.CLOSED): (Reason.VERIFIED_CLOSED, frozenset({_A, _O, _I})),
    (Stage.VERIFYING, Stage.HANDLING): (Reason.VERIFICATION_FAILED, frozenset({_A, _O, _I})),
}
"""(from, to) -> (the reason stored, the roles that may make the move)."""

CANCEL_ROLES: Final = frozenset({_A, _O})
"""Who may cancel an open case as a false report (from any open stage, with a reason)."""

NOTE_REQUIRED: Final = frozenset({Stage.CANCELLED})
"""Moves to these stages need a note: a cancellation says why it was a false report."""

PART_MOVES: Final[dict[tuple[PartState, PartState], Reason]] = {
    (PartState.ASSIGNED, PartState.ACCEPTED): Reason.PART_ACCEPTED,
    (PartState.ASSIGNED, PartState.DECLINED): Reason.PART_DECLINED,
    (PartState.ACCEPTED, PartState.DONE): Reason.PART_DONE,
}
"""A department's part: assigned -> accepted -> done, or declined (with a note)."""

PART_ROLES: Final = frozenset({_A, _O, _D})
"""Who may move a part: the department itself (its own part only) and the control room."""

PART_STAGES: Final = frozenset({Stage.DISPATCHED, Stage.HANDLING})
"""Parts move only while the case is out with the departments."""


def allowed_from(stage: Stage, role: Role) -> list[Stage]:
    """The stages `role` may move a case to from `stage` (for error messages and the UI)."""
    targets = [to for (frm, to), (_, roles) in MOVES.items() if frm == stage and role in roles]
    if not stage.terminal and role in CANCEL_ROLES:
        targets.append(Stage.CANCELLED)
    return targets


def decide_move(current: Stage, target: Stage, role: Role, note: str) -> Reason | Refusal:
    """The reason a move is made, or why it is refused."""
    if current.terminal:
        return Refusal.TERMINAL
    if target is Stage.CANCELLED:
        if role not in CANCEL_ROLES:
            return Refusal.ROLE_NOT_ALLOWED
        if not note.strip():
            return Refusal.NOTE_REQUIRED
        return Reason.CANCELLED_FALSE_REPORT
    rule = MOVES.get((current, target))
    if rule is None:
        return Refusal.NO_SUCH_MOVE
    reason, roles = rule
    return reason if role in roles else Refusal.ROLE_NOT_ALLOWED


def decide_part(
    case_stage: Stage,
    change: tuple[PartState, PartState],
    actor: Actor,
    department: str,
    note: str,
) -> Reason | Refusal:
    """The reason a department's part moves (from, to), or why it may not."""
    reason = PART_MOVES.get(change)
    checks = (
        (case_stage.terminal, Refusal.TERMINAL),
        (case_stage not in PART_STAGES or reason is None, Refusal.NO_SUCH_MOVE),
        (actor.role not in PART_ROLES, Refusal.ROLE_NOT_ALLOWED),
        (
            actor.role is Role.DEPARTMENT and actor.department != department,
            Refusal.NOT_YOUR_DEPARTMENT,
        ),
        (change[1] is PartState.DECLINED and not note.strip(), Refusal.NOTE_REQUIRED),
    )
    refusal = next((why for failed, why in checks if failed), None)
    if refusal is not None or reason is None:
        return refusal or Refusal.NO_SUCH_MOVE
    return reason
