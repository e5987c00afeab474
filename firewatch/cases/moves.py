"""Moving cases: stage moves, cancellation, dispatch to departments, and their parts.

Each function decides with the pure tables of `workflow`, raises `IllegalMoveError` for a move
they refuse, and commits the change with its history entries in one transaction (a
`ConflictError` if someone else moved the case first). Pass `expected_version` (the version the
person saw) to refuse a move decided on a stale view of the case.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import psycopg

from firewatch.cases import store
from firewatch.cases.errors import ConflictError, IllegalMoveError
from firewatch.cases.records import (
    SYSTEM,
    Actor,
    Case,
    HistoryEntry,
    PartState,
    Reason,
    Refusal,
    Stage,
    Supervision,
)
from firewatch.cases.settings import CasesSettings
from firewatch.cases.supervision import lift
from firewatch.cases.workflow import MOVES, allowed_from, decide_move, decide_part


def _entry(
    actor: Actor,
    at: datetime,
    stages: tuple[Stage, Stage],
    reason: Reason,
    *,
    note: str = "",
    attachments: Sequence[str] = (),
    **data: Any,
) -> HistoryEntry:
    frm, to = stages
    return HistoryEntry(
        0, at, actor.actor_id, actor.role, frm, to, reason, note, tuple(attachments), data
    )


def _fetch(conn: psycopg.Connection, case_id: str, expected_version: int | None) -> Case:
    case = store.load(conn, case_id, with_history=False)
    if expected_version is not None and case.version != expected_version:
        raise ConflictError(case_id, expected_version, case.version)
    return case


def move(
    conn: psycopg.Connection,
    case_id: str,
    target: Stage,
    actor: Actor,
    *,
    now: datetime,
    note: str = "",
    attachments: Sequence[str] = (),
    expected_version: int | None = None,
    at: datetime | None = None,
    because: Reason | None = None,
) -> Case:
    """Move a case to `target` as `actor`; `at` is when it happened (default `now`).

    `because` replaces the table's reason with a more precise one for a legal move (the engine
    says which rectification scan moved a case)."""
    when = at or now
    with conn.transaction():
        case = _fetch(conn, case_id, expected_version)
        decision = decide_move(case.stage, target, actor.role, note)
        if isinstance(decision, Refusal):
            allowed = ", ".join(allowed_from(case.stage, actor.role)) or "none"
            raise IllegalMoveError(
                case_id,
                actor.role,
                f"move it from {case.stage} to {target}",
                decision,
                f"it is {case.stage} ({case.stage.label}); {actor.role} may move it to: {allowed}",
            )
        reason = because or decision
        entries = [
            _entry(actor, when, (case.stage, target), reason, note=note, attachments=attachments)
        ]
        changes: dict[str, Any] = {"stage": target}
        if target.terminal:
            changes["closed_at"] = when
            entries += lift(conn, case_id, target, when)
            if case.supervision is Supervision.STREET_PROPOSED:
                changes["supervision"] = Supervision.NONE
        if decision is Reason.VERIFICATION_FAILED:
            reopened = conn.execute(
                "UPDATE case_part SET state = 'accepted', done_at = NULL"
                " WHERE case_id = %s AND state = 'done' RETURNING department",
                (case_id,),
            ).fetchall()
            if reopened:
                departments = sorted(str(d) for (d,) in reopened)
                entries.append(
                    _entry(
                        SYSTEM,
                        when,
                        (target, target),
                        Reason.PARTS_REOPENED,
                        departments=departments,
                    )
                )
        store.commit(conn, case, changes, entries, now)
    return store.load(conn, case_id)


def dispatch(
    conn: psycopg.Connection,
    case_id: str,
    departments: Sequence[str],
    actor: Actor,
    *,
    now: datetime,
    settings: CasesSettings,
    note: str = "",
    expected_version: int | None = None,
) -> Case:
    """Dispatch a registered case (派遣) to departments, each with its own part; on a case
    already out, add departments. No departments: dispatched to the responsible station."""
    unknown = [d for d in departments if d not in settings.departments]
    with conn.transaction():
        case = _fetch(conn, case_id, expected_version)
        if unknown:
            raise IllegalMoveError(
                case_id,
                actor.role,
                f"dispatch to {', '.join(unknown)}",
                Refusal.UNKNOWN_DEPARTMENT,
                f"departments are: {', '.join(settings.departments)}",
            )
        entries: list[HistoryEntry] = []
        stage = case.stage
        if case.stage is Stage.REGISTERED:
            decision = decide_move(case.stage, Stage.DISPATCHED, actor.role, note)
            stage = Stage.DISPATCHED
        elif case.stage in (Stage.DISPATCHED, Stage.HANDLING):
            roles = MOVES[(Stage.REGISTERED, Stage.DISPATCHED)][1]
            decision = Reason.PART_ASSIGNED if actor.role in roles else Refusal.ROLE_NOT_ALLOWED
        else:
            decision = Refusal.TERMINAL if case.stage.terminal else Refusal.NO_SUCH_MOVE
        if isinstance(decision, Refusal):
            raise IllegalMoveError(
                case_id,
                actor.role,
                "dispatch it",
                decision,
                f"it is {case.stage} ({case.stage.label}); dispatch needs a registered case",
            )
        if decision is Reason.DISPATCHED:
            entries.append(
                _entry(
                    actor,
                    now,
                    (case.stage, stage),
                    decision,
                    note=note,
                    departments=list(departments),
                )
            )
        have = {p.department for p in case.parts}
        for department in departments:
            if department in have:
                continue
            conn.execute(
                "INSERT INTO case_part (case_id, department, state, assigned_at)"
                " VALUES (%s, %s, 'assigned', %s)",
                (case_id, department, now),
            )
            entries.append(
                _entry(actor, now, (stage, stage), Reason.PART_ASSIGNED, department=department)
            )
        if not entries:
            return store.load(conn, case_id)
        store.commit(conn, case, {"stage": stage}, entries, now)
    return store.load(conn, case_id)


def move_part(
    conn: psycopg.Connection,
    case_id: str,
    department: str,
    target: PartState,
    actor: Actor,
    *,
    now: datetime,
    note: str = "",
    expected_version: int | None = None,
) -> Case:
    """Move one department's part; the first acceptance starts handling, and the last part
    done sends the case to verification."""
    with conn.transaction():
        case = _fetch(conn, case_id, expected_version)
        part = next((p for p in case.parts if p.department == department), None)
        if part is None:
            raise IllegalMoveError(
                case_id,
                actor.role,
                f"move the part of {department}",
                Refusal.NO_SUCH_MOVE,
                f"parts: {', '.join(p.department for p in case.parts) or 'none'}",
            )
        decision = decide_part(case.stage, (part.state, target), actor, department, note)
        if isinstance(decision, Refusal):
            raise IllegalMoveError(
                case_id,
                actor.role,
                f"move the part of {department} to {target}",
                decision,
                f"the part is {part.state} and the case {case.stage}",
            )
        column = {PartState.ACCEPTED: "accepted_at", PartState.DONE: "done_at"}.get(target)
        conn.execute(
            "UPDATE case_part SET state = %s, note = %s"
            + (f", {column} = %s" if column else "")
            + " WHERE case_id = %s AND department = %s",
            [str(target), note, *([now] if column else []), case_id, department],
        )
        stage = case.stage
        entries = [_entry(actor, now, (stage, stage), decision, note=note, department=department)]
        states = {p.department: p.state for p in case.parts} | {department: target}
        if target is PartState.ACCEPTED and stage is Stage.DISPATCHED:
            entries.append(_entry(actor, now, (stage, Stage.HANDLING), Reason.HANDLING_STARTED))
            stage = Stage.HANDLING
        finished = all(s in (PartState.DONE, PartState.DECLINED) for s in states.values())
        if stage is Stage.HANDLING and finished and PartState.DONE in states.values():
            entries.append(_entry(SYSTEM, now, (stage, Stage.VERIFYING), Reason.ALL_PARTS_DONE))
            stage = Stage.VERIFYING
        store.commit(conn, case, {"stage": stage}, entries, now)
    return store.load(conn, case_id)
