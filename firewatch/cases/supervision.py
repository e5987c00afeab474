"""Listed supervision (挂牌督办): when a case is proposed for listing, and who decides.

A case is proposed for street-level listing when its hazard comes back at a venue within 90
days of a closure (整治反复回潮), or when it is overdue by more than 30 days. The control room
lists it at street level (or rejects the proposal); district-level listing is a decision
recorded with its approver (admin). Closing or cancelling a case lifts its listing; the level
it reached stays on the case, so listed cases remain visible as such.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final

import psycopg

from firewatch.cases import store
from firewatch.cases.errors import ConflictError, IllegalMoveError
from firewatch.cases.records import (
    Actor,
    Case,
    HistoryEntry,
    Reason,
    Refusal,
    Role,
    Stage,
    Supervision,
)
from firewatch.cases.settings import CasesSettings


class Level(StrEnum):
    STREET = "street"
    DISTRICT = "district"


LISTING_ROLES: Final[dict[Level, frozenset[Role]]] = {
    Level.STREET: frozenset({Role.OPERATOR, Role.ADMIN}),  # the control room lists at street level
    Level.DISTRICT: frozenset({Role.ADMIN}),  # district level: the office's approver
}


@dataclass(frozen=True, slots=True)
class ListingFacts:
    stage: Stage
    supervision: Supervision
    due_at: datetime
    previous_closed_at: datetime | None  # the last closure of the same hazard at the venue
    opened_at: datetime


def listing_proposal(facts: ListingFacts, now: datetime, settings: CasesSettings) -> Reason | None:
    """Whether to propose street-level listing now, and why (None: not now)."""
    if facts.stage.terminal or facts.supervision is not Supervision.NONE:
        return None
    recurrence = timedelta(days=settings.recurrence_days)
    if facts.previous_closed_at is not None and (
        facts.opened_at - facts.previous_closed_at <= recurrence
    ):
        return Reason.LISTING_PROPOSED_RECURRENCE
    if now - facts.due_at > timedelta(days=settings.overdue_listing_days):
        return Reason.LISTING_PROPOSED_OVERDUE
    return None


def decide_listing(
    current: Supervision, level: Level, approve: bool, role: Role, stage: Stage
) -> Reason | Refusal:
    """The reason a listing decision is recorded, or why it may not be taken."""
    if stage.terminal:
        return Refusal.TERMINAL
    if role not in LISTING_ROLES[level]:
        return Refusal.ROLE_NOT_ALLOWED
    rank = {
        Supervision.NONE: 0,
        Supervision.STREET_PROPOSED: 0,
        Supervision.STREET: 1,
        Supervision.DISTRICT: 2,
    }
    wanted = 1 if level is Level.STREET else 2
    if rank[current] >= wanted:
        return Refusal.ALREADY_LISTED
    if not approve:
        if current is not Supervision.STREET_PROPOSED or level is not Level.STREET:
            return Refusal.NO_SUCH_MOVE  # only a pending street proposal can be rejected
        return Reason.LISTING_REJECTED
    return Reason.LISTED_STREET if level is Level.STREET else Reason.LISTED_DISTRICT


def propose(
    conn: psycopg.Connection, case: Case, reason: Reason, at: datetime
) -> tuple[dict[str, Supervision], HistoryEntry]:
    """Record a street-level proposal (inside the caller's transaction); the case change and
    the history entry to commit with it."""
    conn.execute(
        "INSERT INTO case_listing (case_id, level, state, reason, proposed_at)"
        " VALUES (%s, 'street', 'proposed', %s, %s)",
        (case.case_id, str(reason), at),
    )
    entry = HistoryEntry(0, at, "engine", Role.SYSTEM, case.stage, case.stage, reason)
    return {"supervision": Supervision.STREET_PROPOSED}, entry


def decide(
    conn: psycopg.Connection,
    case_id: str,
    level: Level,
    actor: Actor,
    *,
    now: datetime,
    approve: bool = True,
    note: str = "",
    expected_version: int | None = None,
) -> Case:
    """List a case at `level` (or reject a street proposal), recording who decided."""
    with conn.transaction():
        case = store.load(conn, case_id, with_history=False)
        if expected_version is not None and case.version != expected_version:
            raise ConflictError(case_id, expected_version, case.version)
        decision = decide_listing(case.supervision, level, approve, actor.role, case.stage)
        if isinstance(decision, Refusal):
            verb = "list" if approve else "reject the listing of"
            raise IllegalMoveError(
                case_id,
                actor.role,
                f"{verb} it at {level} level",
                decision,
                f"its supervision is {case.supervision}; {level} level is decided by "
                + ", ".join(sorted(LISTING_ROLES[level])),
            )
        state = "listed" if approve else "rejected"
        updated = conn.execute(
            "UPDATE case_listing SET state = %s, decided_at = %s, decided_by = %s,"
            " approver_role = %s, note = %s"
            " WHERE case_id = %s AND level = %s AND state = 'proposed'",
            (state, now, actor.actor_id, str(actor.role), note, case_id, str(level)),
        ).rowcount
        if updated == 0 and approve:  # listed without a proposal (a district decision, say)
            conn.execute(
                "INSERT INTO case_listing (case_id, level, state, reason, proposed_at,"
                " decided_at, decided_by, approver_role, note)"
                " VALUES (%s, %s, 'listed', %s, %s, %s, %s, %s, %s)",
                (
                    case_id,
                    str(level),
                    str(decision),
                    now,
                    now,
                    actor.actor_id,
                    str(actor.role),
                    note,
                ),
            )
        if approve and level is Level.DISTRICT:  # the district list supersedes the street one
            conn.execute(
                "UPDATE case_listing SET state = 'lifted', lifted_at = %s"
                " WHERE case_id = %s AND level = 'street' AND state IN ('proposed', 'listed')",
                (now, case_id),
            )
        supervision = {
            Reason.LISTED_STREET: Supervision.STREET,
            Reason.LISTED_DISTRICT: Supervision.DISTRICT,
            Reason.LISTING_REJECTED: Supervision.NONE,
        }[decision]
        entry = HistoryEntry(
            0,
            now,
            actor.actor_id,
            actor.role,
            case.stage,
            case.stage,
            decision,
            note,
            (),
            {"level": str(level), "approver": actor.actor_id},
        )
        store.commit(conn, case, {"supervision": supervision}, [entry], now)
    return store.load(conn, case_id)


def lift(conn: psycopg.Connection, case_id: str, stage: Stage, at: datetime) -> list[HistoryEntry]:
    """A closed or cancelled case leaves the supervision list (the level it reached stays on
    the case); the history entry to commit with the move, if it was proposed or listed."""
    lifted = conn.execute(
        "UPDATE case_listing SET state = 'lifted', lifted_at = %s"
        " WHERE case_id = %s AND state IN ('proposed', 'listed') RETURNING level",
        (at, case_id),
    ).fetchall()
    if not lifted:
        return []
    levels = sorted(str(level) for (level,) in lifted)
    return [
        HistoryEntry(
            0,
            at,
            "engine",
            Role.SYSTEM,
            stage,
            stage,
            Reason.LISTING_LIFTED,
            data={"levels": levels},
        )
    ]


def supervision_list(conn: psycopg.Connection) -> list[tuple[str, str, str, str, str]]:
    """(case_id, level, state, venue name, hazard) of every proposed or listed case."""
    rows = conn.execute(
        "SELECT case_id, level, state, venue_name, hazard FROM case_supervision_list"
        " ORDER BY level DESC, proposed_at"
    ).fetchall()
    return [(str(a), str(b), str(c), str(d), str(e)) for a, b, c, d, e in rows]
