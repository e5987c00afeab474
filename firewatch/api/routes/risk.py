"""Fire risk over HTTP: each venue's and community's latest score with its reasons, and a
subject's scores over time (the models stage writes them: `risk_score`, see models/README.md).

The latest score carries its time: a venue whose devices stopped reporting keeps its last
score, and the reader can see how old it is."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

import psycopg
from fastapi import APIRouter, Depends, Query
from psycopg import sql

from firewatch.api.deps import Db, require, scope_filter, select
from firewatch.api.errors import ApiError
from firewatch.api.pages import MAX_LIMIT, page, resume
from firewatch.auth.roles import Permission
from firewatch.auth.users import Principal
from firewatch.kernel.contract import Level

router = APIRouter(prefix="/api/v1/risk", tags=["risk"])

Reader = Annotated[Principal, Depends(require(Permission.RISK_READ))]


class Subject(StrEnum):
    VENUES = "venues"
    COMMUNITIES = "communities"


_SCOPE = {Subject.VENUES: "venue", Subject.COMMUNITIES: "community"}
_COLUMNS = sql.SQL("subject_id, venue_id, community, at, score, level, basis, reasons")
_VISIBLE = sql.SQL("(%(communities)s::text[] IS NULL OR community = ANY(%(communities)s))")


@router.get("/{subject}")
def latest_risk(
    subject: Subject,
    conn: Db,
    who: Reader,
    *,
    community: str | None = None,
    level: Level | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
    cursor: str | None = None,
) -> dict[str, Any]:
    """The latest score of each venue (or community), by subject id."""
    after = (resume(cursor, str) or [""])[0]
    query = sql.SQL(
        "SELECT * FROM (SELECT DISTINCT ON (subject_id) {columns} FROM risk_score"
        " WHERE scope = %(scope)s AND subject_id > %(after)s AND {visible}"
        " AND (%(community)s::text IS NULL OR community = %(community)s)"
        " ORDER BY subject_id, at DESC) latest"
        " WHERE (%(level)s::text IS NULL OR level = %(level)s)"
        " ORDER BY subject_id LIMIT %(limit)s"
    ).format(columns=_COLUMNS, visible=_VISIBLE)
    rows = select(
        conn,
        query,
        {
            "scope": _SCOPE[subject],
            "after": after,
            "communities": scope_filter(who),
            "community": community,
            "level": level,
            "limit": limit + 1,
        },
    )
    return page(rows, limit, ("subject_id",))


@router.get("/{subject}/{subject_id}")
def risk_history(
    subject: Subject,
    subject_id: str,
    conn: Db,
    who: Reader,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
    cursor: str | None = None,
) -> dict[str, Any]:
    """One venue's (or community's) scores over time, oldest first, each with its reasons."""
    after = (resume(cursor, datetime.fromisoformat) or [None])[0]
    query = sql.SQL(
        "SELECT {columns} FROM risk_score WHERE scope = %(scope)s AND subject_id = %(subject)s"
        " AND {visible} AND (%(since)s::timestamptz IS NULL OR at >= %(since)s)"
        " AND (%(until)s::timestamptz IS NULL OR at < %(until)s)"
        " AND (%(after)s::timestamptz IS NULL OR at > %(after)s)"
        " ORDER BY at LIMIT %(limit)s"
    ).format(columns=_COLUMNS, visible=_VISIBLE)
    rows = select(
        conn,
        query,
        {
            "scope": _SCOPE[subject],
            "subject": subject_id,
            "communities": scope_filter(who),
            "since": since,
            "until": until,
            "after": after,
            "limit": limit + 1,
        },
    )
    if not rows and after is None and not _known(conn, who, subject, subject_id):
        raise ApiError(404, "not_found", f"no {_SCOPE[subject]} {subject_id!r} you may see")
    return page(rows, limit, ("at",))


def _known(conn: psycopg.Connection, who: Principal, subject: Subject, subject_id: str) -> bool:
    column = "venue_id" if subject is Subject.VENUES else "community"
    row = conn.execute(
        sql.SQL("SELECT community FROM venue WHERE {} = %s LIMIT 1").format(sql.Identifier(column)),
        (subject_id,),
    ).fetchone()
    return row is not None and who.sees(str(row[0]))
