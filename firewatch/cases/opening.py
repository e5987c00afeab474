"""Opening cases: a finding opens a case, or updates the open one for the same venue and hazard.

One open case per venue and hazard is also a unique index, so two findings arriving at once
still end in one case. A finding is applied once: its (source, source_ref) is recorded, and a
replay answers `ALREADY_APPLIED`. A hazard found again within `recurrence_days` of its last
closure at the venue opens a new case proposed for street-level listing (整治反复回潮).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

import psycopg

from firewatch.cases import store
from firewatch.cases.deadlines import due_at
from firewatch.cases.errors import CaseError, ConflictError
from firewatch.cases.records import (
    Actor,
    HistoryEntry,
    Kind,
    Reason,
    Role,
    Source,
    Stage,
    Supervision,
)
from firewatch.cases.settings import CasesSettings
from firewatch.cases.supervision import ListingFacts, listing_proposal

_OPENED = {
    Source.SCAN: Reason.OPENED_FROM_SCAN,
    Source.EVIDENCE: Reason.OPENED_FROM_EVIDENCE,
    Source.ALERT: Reason.OPENED_FROM_ALERT,
    Source.MANUAL: Reason.OPENED_MANUALLY,
}
# Where a case of each source starts: found by the engine, it is reported at once; a confirmed
# fire alert is also registered (立案) at once; one opened by hand waits in 发现 for its report.
_PATH: dict[Source, tuple[tuple[Stage, Reason], ...]] = {
    Source.SCAN: ((Stage.REPORTED, Reason.REPORTED),),
    Source.EVIDENCE: ((Stage.REPORTED, Reason.REPORTED),),
    Source.ALERT: ((Stage.REPORTED, Reason.REPORTED), (Stage.REGISTERED, Reason.REGISTERED)),
    Source.MANUAL: (),
}


class OpenResult(StrEnum):
    OPENED = "opened"
    FOUND_AGAIN = "found_again"  # the open case for this venue and hazard was updated
    ALREADY_APPLIED = "already_applied"  # this very finding was applied before (a replay)


@dataclass(frozen=True, slots=True)
class Finding:
    """A hazard (or an incident) found at a venue, by whom, from which record."""

    venue_id: str
    hazard: str
    kind: Kind
    source: Source
    source_ref: str  # unique within the source: the alert id, the scan item, the evidence key
    at: datetime
    actor: Actor
    summary: str
    note: str = ""
    attachments: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Opened:
    case_id: str
    result: OpenResult
    listing: Reason | None = None  # a listing proposed with the opening


def _next_case_id(conn: psycopg.Connection, finding: Finding, settings: CasesSettings) -> str:
    row = conn.execute("SELECT nextval('hazard_case_number')").fetchone()
    assert row is not None
    prefix = "IC" if finding.kind is Kind.INCIDENT else "HC"
    return f"{prefix}-{finding.at.astimezone(settings.zone):%Y%m%d}-{int(row[0]):05d}"


def _venue(conn: psycopg.Connection, venue_id: str) -> tuple[str, str, str]:
    row = conn.execute(
        "SELECT community, grid, station_id FROM venue WHERE venue_id = %s", (venue_id,)
    ).fetchone()
    if row is None:
        raise CaseError(f"cannot open a case at venue {venue_id}: it is not in the registry")
    return str(row[0]), str(row[1]), str(row[2])


def _previous_closure(conn: psycopg.Connection, finding: Finding) -> tuple[str, datetime] | None:
    row = conn.execute(
        "SELECT case_id, closed_at FROM hazard_case WHERE venue_id = %s AND hazard = %s"
        " AND stage = 'closed' AND closed_at <= %s ORDER BY closed_at DESC LIMIT 1",
        (finding.venue_id, finding.hazard, finding.at),
    ).fetchone()
    return None if row is None else (str(row[0]), row[1])


def open_case(
    conn: psycopg.Connection, finding: Finding, now: datetime, settings: CasesSettings
) -> Opened:
    """Open a case for `finding`, or update the open one; idempotent per (source, source_ref)."""
    with conn.transaction():
        # The same finding applied twice at once (a replay racing a catch-up) waits here.
        conn.execute(
            "SELECT pg_advisory_xact_lock(hashtext(%s))",
            (f"{finding.source}:{finding.source_ref}",),
        )
        done = conn.execute(
            "SELECT case_id FROM case_source WHERE source = %s AND source_ref = %s",
            (str(finding.source), finding.source_ref),
        ).fetchone()
        if done is not None:
            return Opened(str(done[0]), OpenResult.ALREADY_APPLIED)
        opened = _insert(conn, finding, now, settings)
        if opened is None:
            opened = _found_again(conn, finding, now)
        conn.execute(
            "INSERT INTO case_source (source, source_ref, case_id, at) VALUES (%s, %s, %s, %s)",
            (str(finding.source), finding.source_ref, opened.case_id, finding.at),
        )
    return opened


def _insert(
    conn: psycopg.Connection, finding: Finding, now: datetime, settings: CasesSettings
) -> Opened | None:
    community, grid, station_id = _venue(conn, finding.venue_id)
    case_id = _next_case_id(conn, finding, settings)
    actor, at = finding.actor, finding.at
    due = due_at(finding.hazard, at, settings)
    entries = [
        HistoryEntry(
            0,
            at,
            actor.actor_id,
            actor.role,
            None,
            Stage.DISCOVERED,
            _OPENED[finding.source],
            finding.note,
            finding.attachments,
            {"source_ref": finding.source_ref, "hazard": finding.hazard},
        )
    ]
    stage = Stage.DISCOVERED
    for target, reason in _PATH[finding.source]:
        entries.append(HistoryEntry(0, at, actor.actor_id, actor.role, stage, target, reason))
        stage = target
    previous = _previous_closure(conn, finding)
    facts = ListingFacts(stage, Supervision.NONE, due, previous[1] if previous else None, at)
    proposal = listing_proposal(facts, now, settings)
    within = previous is not None and at - previous[1] <= timedelta(days=settings.recurrence_days)
    if proposal is not None:
        data: dict[str, Any] = {"previous_case": previous[0]} if previous else {}
        entries.append(
            HistoryEntry(0, at, "engine", Role.SYSTEM, stage, stage, proposal, data=data)
        )
    row = conn.execute(
        "INSERT INTO hazard_case (case_id, kind, venue_id, community, grid, station_id, hazard,"
        " source, summary, stage, opened_at, due_at, supervision, recurrence_of, found_count,"
        " last_found_at, version)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, 1, %s, %s)"
        " ON CONFLICT (venue_id, hazard) WHERE stage NOT IN ('closed', 'cancelled') DO NOTHING"
        " RETURNING case_id",
        (
            case_id,
            str(finding.kind),
            finding.venue_id,
            community,
            grid,
            station_id,
            finding.hazard,
            str(finding.source),
            finding.summary,
            str(stage),
            at,
            due,
            str(Supervision.STREET_PROPOSED if proposal else Supervision.NONE),
            previous[0] if previous and within else None,
            at,
            len(entries),
        ),
    ).fetchone()
    if row is None:
        return None
    if proposal is not None:
        conn.execute(
            "INSERT INTO case_listing (case_id, level, state, reason, proposed_at)"
            " VALUES (%s, 'street', 'proposed', %s, %s)",
            (case_id, str(proposal), at),
        )
    store.append(conn, case_id, 1, entries, now)
    return Opened(case_id, OpenResult.OPENED, proposal)


def _found_again(conn: psycopg.Connection, finding: Finding, now: datetime) -> Opened:
    """Count the finding on the open case; retried if a person moves the case meanwhile."""
    for _ in range(5):
        row = conn.execute(
            "SELECT case_id FROM hazard_case WHERE venue_id = %s AND hazard = %s"
            " AND stage NOT IN ('closed', 'cancelled')",
            (finding.venue_id, finding.hazard),
        ).fetchone()
        if row is None:
            raise CaseError(
                f"the open case for {finding.hazard} at {finding.venue_id} vanished while a"
                " finding was being added to it; apply the finding again"
            )
        case = store.load(conn, str(row[0]), with_history=False)
        actor = finding.actor
        entry = HistoryEntry(
            0,
            finding.at,
            actor.actor_id,
            actor.role,
            case.stage,
            case.stage,
            Reason.FOUND_AGAIN,
            finding.note,
            finding.attachments,
            {
                "source_ref": finding.source_ref,
                "source": str(finding.source),
                "summary": finding.summary,
            },
        )
        changes = {
            "found_count": case.found_count + 1,
            "last_found_at": max(case.last_found_at, finding.at),
        }
        try:
            with conn.transaction():  # a savepoint: a lost race is retried, not fatal
                store.commit(conn, case, changes, [entry], now)
        except ConflictError:
            continue
        return Opened(case.case_id, OpenResult.FOUND_AGAIN)
    raise CaseError(f"case for {finding.hazard} at {finding.venue_id} kept changing; try again")
