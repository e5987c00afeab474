"""The overdue sweep: reminders to whoever holds a case, listing proposals for cases overdue
by more than 30 days, and the venues overdue for inspection reported to their grid staff.

Reminders are rows of `case_reminder` with an idempotency key: a sweep run twice in the same
interval creates nothing new, and the notification stage delivers each row once. `sweep`
returns only what this run created.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import psycopg

from firewatch.cases import hazards, store
from firewatch.cases.deadlines import ReminderReason, holders, reminder_key, reminder_reason
from firewatch.cases.errors import ConflictError
from firewatch.cases.inspections import coverage, overdue_by_grid
from firewatch.cases.records import Case, Reason
from firewatch.cases.settings import CasesSettings
from firewatch.cases.supervision import ListingFacts, listing_proposal, propose


@dataclass(frozen=True, slots=True)
class Reminder:
    key: str
    case_id: str | None
    venue_id: str | None
    to_kind: str
    to_ref: str
    reason: ReminderReason
    text: str


@dataclass(frozen=True, slots=True)
class SweepReport:
    reminders: tuple[Reminder, ...]
    proposals: tuple[tuple[str, Reason], ...]  # (case_id, why) proposed for listing now


def _text(case: Case, reason: ReminderReason, now: datetime, settings: CasesSettings) -> str:
    due = case.due_at.astimezone(settings.zone).strftime("%Y-%m-%d %H:%M")
    what = f"{case.case_id} {hazards.label(case.hazard)} @ {case.venue_id} ({case.stage.label})"
    if reason is ReminderReason.DUE_SOON:
        return f"即将到期 due soon: {what}, due {due}"
    days = (now - case.due_at).days
    return f"已超期 overdue {days} d: {what}, was due {due}"


def _case_reminders(case: Case, now: datetime, settings: CasesSettings) -> list[Reminder]:
    reason = reminder_reason(case.stage, case.due_at, now, settings)
    if reason is None:
        return []
    key = reminder_key(case.case_id, reason, case.due_at, now, settings)
    text = _text(case, reason, now, settings)
    return [
        Reminder(
            f"{key}:{h.kind}:{h.ref}", case.case_id, case.venue_id, str(h.kind), h.ref, reason, text
        )
        for h in holders(case.stage, case.kind, case.parts, case.grid, case.station_id)
    ]


def _store(conn: psycopg.Connection, reminders: list[Reminder], now: datetime) -> list[Reminder]:
    created = []
    for r in reminders:
        row = conn.execute(
            "INSERT INTO case_reminder (key, case_id, venue_id, to_kind, to_ref, reason, text,"
            " created_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"
            " ON CONFLICT (key) DO NOTHING RETURNING reminder_id",
            (r.key, r.case_id, r.venue_id, r.to_kind, r.to_ref, str(r.reason), r.text, now),
        ).fetchone()
        if row is not None:
            created.append(r)
    return created


def sweep(conn: psycopg.Connection, now: datetime, settings: CasesSettings) -> SweepReport:
    """Remind, propose listings, report overdue inspections; each part in its own transaction."""
    reminders: list[Reminder] = []
    proposals: list[tuple[str, Reason]] = []
    for case in store.find(conn, open_only=True):
        facts = ListingFacts(case.stage, case.supervision, case.due_at, None, case.opened_at)
        why = listing_proposal(facts, now, settings)
        if why is not None:
            try:
                with conn.transaction():
                    changes, entry = propose(conn, case, why, now)
                    store.commit(conn, case, changes, [entry], now)
                proposals.append((case.case_id, why))
            except ConflictError:  # moved meanwhile: the next sweep looks again
                pass
        with conn.transaction():
            reminders += _store(conn, _case_reminders(case, now, settings), now)
    zone = settings.zone
    window_start = now.astimezone(zone).date().replace(day=1)
    for grid, venues in sorted(overdue_by_grid(coverage(conn, now, zone)).items()):
        names = ", ".join(f"{v.venue_id} {v.name}" for v in venues[:20])
        more = f" 等 {len(venues)} 处" if len(venues) > 20 else ""
        text = (
            f"网格 {grid}: {len(venues)} 处场所未按周期检查 not inspected in cycle: {names}{more}"
        )
        reminder = Reminder(
            f"inspection:{grid}:{window_start}",
            None,
            None,
            "grid",
            grid,
            ReminderReason.INSPECTION_OVERDUE,
            text,
        )
        with conn.transaction():
            reminders += _store(conn, [reminder], now)
    return SweepReport(tuple(reminders), tuple(proposals))


def pending(conn: psycopg.Connection) -> list[tuple[int, str, str, str]]:
    """Undelivered reminders: (id, to_kind, to_ref, text), oldest first."""
    rows = conn.execute(
        "SELECT reminder_id, to_kind, to_ref, text FROM case_reminder"
        " WHERE delivered_at IS NULL ORDER BY created_at, reminder_id"
    ).fetchall()
    return [(int(a), str(b), str(c), str(d)) for a, b, c, d in rows]
