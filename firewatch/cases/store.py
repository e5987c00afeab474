"""Cases at rest: reading a case back, and committing a change with its history entries.

Every change goes through `commit`: the case row is updated only if its version is still the
one the change was decided on (optimistic concurrency), and the history entries are appended
with `seq` = the versions they produce. Of two people moving the same case at once, the second
UPDATE waits for the first to commit, then finds the version changed: exactly one wins, the
other gets a `ConflictError`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Final, TypeVar, cast

import psycopg
from psycopg import sql
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from firewatch.cases.errors import CaseNotFoundError, ConflictError
from firewatch.cases.records import (
    Case,
    HistoryEntry,
    Kind,
    Part,
    PartState,
    Reason,
    Role,
    Source,
    Stage,
    Supervision,
)

_COLUMNS: Final = (
    "case_id, kind, venue_id, community, grid, station_id, hazard, source, summary, stage,"
    " opened_at, due_at, closed_at, supervision, recurrence_of, found_count, last_found_at,"
    " version"
)
_UPDATABLE: Final = frozenset(
    {"stage", "closed_at", "supervision", "found_count", "last_found_at", "summary"}
)


def _case(
    row: Mapping[str, Any], parts: tuple[Part, ...], history: tuple[HistoryEntry, ...]
) -> Case:
    return Case(
        case_id=row["case_id"],
        kind=Kind(row["kind"]),
        venue_id=row["venue_id"],
        community=row["community"],
        grid=row["grid"],
        station_id=row["station_id"],
        hazard=row["hazard"],
        source=Source(row["source"]),
        summary=row["summary"],
        stage=Stage(row["stage"]),
        opened_at=row["opened_at"],
        due_at=row["due_at"],
        closed_at=row["closed_at"],
        supervision=Supervision(row["supervision"]),
        recurrence_of=row["recurrence_of"],
        found_count=row["found_count"],
        last_found_at=row["last_found_at"],
        version=row["version"],
        parts=parts,
        history=history,
    )


def load(conn: psycopg.Connection, case_id: str, *, with_history: bool = True) -> Case:
    """The case as it is now, with its parts and (by default) its whole history."""
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(
            f"SELECT {_COLUMNS} FROM hazard_case WHERE case_id = %s", (case_id,)
        ).fetchone()
        if row is None:
            raise CaseNotFoundError(case_id)
        parts = tuple(
            Part(
                r["department"],
                PartState(r["state"]),
                r["assigned_at"],
                r["accepted_at"],
                r["done_at"],
                r["note"],
            )
            for r in cur.execute(
                "SELECT * FROM case_part WHERE case_id = %s ORDER BY assigned_at, department",
                (case_id,),
            )
        )
    return _case(row, parts, history(conn, case_id) if with_history else ())


def history(conn: psycopg.Connection, case_id: str) -> tuple[HistoryEntry, ...]:
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(
            "SELECT * FROM case_history WHERE case_id = %s ORDER BY seq", (case_id,)
        ).fetchall()
    return tuple(
        HistoryEntry(
            seq=r["seq"],
            at=r["at"],
            actor=r["actor"],
            role=_known(Role, r["role"]),
            from_stage=_known(Stage, r["from_stage"]) if r["from_stage"] is not None else None,
            to_stage=_known(Stage, r["to_stage"]),
            reason=_known(Reason, r["reason"]),
            note=r["note"],
            attachments=tuple(map(str, r["attachments"] or ())),
            data=r["data"] if isinstance(r["data"], dict) else {"value": r["data"]},
        )
        for r in rows
    )


E = TypeVar("E", Role, Stage, Reason)


def _known(kind: type[E], value: str) -> E:
    """The stored value as its enum; one this version does not know (written by a later one,
    or by hand) is shown as it is rather than failing the whole case's read."""
    try:
        return kind(value)
    except ValueError:
        return cast(E, str(value))


def find(
    conn: psycopg.Connection,
    *,
    venue_id: str | None = None,
    stage: Stage | None = None,
    supervision: Supervision | None = None,
    open_only: bool = False,
    communities: Sequence[str] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    after: str | None = None,
    limit: int | None = None,
) -> list[Case]:
    """Cases matching the filters (without their history), oldest first; `communities`
    limits them to those communities, `since` / `until` to those opened in that time. With
    `limit`: a page by case id, the first `limit` after `after`."""
    where: list[sql.Composable] = [sql.SQL("true")]
    args: list[Any] = []
    for column, value in (("venue_id", venue_id), ("stage", stage), ("supervision", supervision)):
        if value is not None:
            where.append(sql.SQL("{} = %s").format(sql.Identifier(column)))
            args.append(str(value))
    if open_only:
        where.append(sql.SQL("stage NOT IN ('closed', 'cancelled')"))
    if communities is not None:
        where.append(sql.SQL("community = ANY(%s)"))
        args.append(list(communities))
    for bound, at in ((">=", since), ("<", until)):
        if at is not None:
            where.append(sql.SQL("opened_at {} %s").format(sql.SQL(bound)))
            args.append(at)
    order: sql.Composable = sql.SQL("opened_at, case_id")
    if limit is not None:
        where.append(sql.SQL("case_id > %s"))
        args.append(after or "")
        order = sql.SQL("case_id LIMIT {}").format(sql.Literal(limit))
    query = sql.SQL("SELECT case_id FROM hazard_case WHERE {} ORDER BY {}").format(
        sql.SQL(" AND ").join(where), order
    )
    ids = [r[0] for r in conn.execute(query, args)]
    return [load(conn, case_id, with_history=False) for case_id in ids]


def append(
    conn: psycopg.Connection,
    case_id: str,
    first_seq: int,
    entries: Sequence[HistoryEntry],
    recorded_at: datetime,
) -> None:
    """Append history entries numbered from `first_seq` (inside the caller's transaction)."""
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO case_history (case_id, seq, at, recorded_at, actor, role, from_stage,"
            " to_stage, reason, note, attachments, data)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            [
                (
                    case_id,
                    first_seq + i,
                    e.at,
                    recorded_at,
                    e.actor,
                    str(e.role),
                    None if e.from_stage is None else str(e.from_stage),
                    str(e.to_stage),
                    str(e.reason),
                    e.note,
                    list(e.attachments),
                    Jsonb(e.data),
                )
                for i, e in enumerate(entries)
            ],
        )


def commit(
    conn: psycopg.Connection,
    case: Case,
    changes: Mapping[str, Any],
    entries: Sequence[HistoryEntry],
    recorded_at: datetime,
) -> int:
    """Update the case (only if still at `case.version`) and append `entries`; the new version.

    Runs inside the caller's transaction; raises `ConflictError` if someone else got there first.
    """
    unknown = set(changes) - _UPDATABLE
    if unknown:
        raise ValueError(f"commit: {sorted(unknown)} are not updatable case columns")
    new_version = case.version + len(entries)
    assignments = [sql.SQL("version = %s")] + [
        sql.SQL("{} = %s").format(sql.Identifier(name)) for name in changes
    ]
    values = [new_version, *(str(v) if isinstance(v, str) else v for v in changes.values())]
    updated = conn.execute(
        sql.SQL("UPDATE hazard_case SET {} WHERE case_id = %s AND version = %s").format(
            sql.SQL(", ").join(assignments)
        ),
        [*values, case.case_id, case.version],
    ).rowcount
    if updated != 1:
        row = conn.execute(
            "SELECT version FROM hazard_case WHERE case_id = %s", (case.case_id,)
        ).fetchone()
        raise ConflictError(case.case_id, case.version, None if row is None else int(row[0]))
    append(conn, case.case_id, case.version + 1, entries, recorded_at)
    return new_version
