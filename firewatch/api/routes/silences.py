"""Silences over HTTP: maintenance and fire drills hold notifications, never the record.

A silence names a device, a venue or a community the caller may see, has a reason, and ends:
at most `MAX_SILENCE` after it starts, so a forgotten drill cannot mute a venue for good."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any, Final

import psycopg
from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import AwareDatetime, BaseModel, Field

from firewatch.alerting import Scope, Silence, add_silence, cancel_silence
from firewatch.api.deps import Db, require, scope_filter, select
from firewatch.api.errors import ApiError
from firewatch.api.pages import MAX_LIMIT, page, resume
from firewatch.auth.roles import Permission
from firewatch.auth.users import Principal

router = APIRouter(prefix="/api/v1", tags=["silences"])

Reader = Annotated[Principal, Depends(require(Permission.ALERTS_READ))]
Writer = Annotated[Principal, Depends(require(Permission.SILENCES_WRITE))]

MAX_SILENCE: Final = timedelta(days=7)

_COMMUNITY_OF = {
    Scope.DEVICE: "SELECT v.community FROM device d JOIN venue v USING (venue_id)"
    " WHERE d.device_id = %s",
    Scope.VENUE: "SELECT community FROM venue WHERE venue_id = %s",
    Scope.COMMUNITY: "SELECT community FROM venue WHERE community = %s LIMIT 1",
}
_SELECT = """
SELECT s.silence_id, s.scope, s.subject_id, s.starts_at, s.ends_at, s.reason, s.created_by,
       s.created_at, s.cancelled_at, s.cancelled_by
FROM silence s
WHERE (%(communities)s::text[] IS NULL OR CASE s.scope
    WHEN 'community' THEN s.subject_id = ANY(%(communities)s)
    WHEN 'venue' THEN s.subject_id IN
        (SELECT venue_id FROM venue WHERE community = ANY(%(communities)s))
    ELSE s.subject_id IN (SELECT d.device_id FROM device d JOIN venue v USING (venue_id)
                          WHERE v.community = ANY(%(communities)s)) END)
"""


class SilenceBody(BaseModel):
    scope: Scope
    subject_id: str = Field(min_length=1, max_length=64)
    starts_at: AwareDatetime | None = None  # now, when not given
    ends_at: AwareDatetime
    reason: str = Field(min_length=1, max_length=500)  # maintenance, fire drill, ...


def _community_of(conn: psycopg.Connection, scope: Scope, subject_id: str) -> str | None:
    row = conn.execute(_COMMUNITY_OF[scope], (subject_id,)).fetchone()
    return None if row is None else str(row[0])


def _one(conn: psycopg.Connection, who: Principal, silence_id: int) -> dict[str, Any]:
    rows = select(
        conn, _SELECT + " AND s.silence_id = %(id)s",
        {"communities": scope_filter(who), "id": silence_id},
    )  # fmt: skip
    if not rows:
        raise ApiError(404, "not_found", f"no silence {silence_id} you may see")
    return rows[0]


@router.get("/silences")
def list_silences(
    conn: Db,
    who: Reader,
    request: Request,
    *,
    include_ended: bool = False,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
    cursor: str | None = None,
) -> dict[str, Any]:
    """Silences running or still to come (with `include_ended`, all of them), by id."""
    after = (resume(cursor, int) or [0])[0]
    rows = select(
        conn,
        _SELECT + " AND s.silence_id > %(after)s AND (%(all)s OR s.ends_at > %(now)s)"
        " ORDER BY s.silence_id LIMIT %(limit)s",
        {
            "communities": scope_filter(who),
            "after": after,
            "all": include_ended,
            "now": request.app.state.clock.now(),
            "limit": limit + 1,
        },
    )
    return page(rows, limit, ("silence_id",))


@router.post("/silences", status_code=201)
def create_silence(body: SilenceBody, request: Request, conn: Db, who: Writer) -> dict[str, Any]:
    now: datetime = request.app.state.clock.now()
    community = _community_of(conn, body.scope, body.subject_id)
    if community is None or not who.sees(community):
        raise ApiError(404, "not_found", f"no {body.scope} {body.subject_id!r} you may see")
    starts_at = body.starts_at or now
    if body.ends_at <= max(starts_at, now):
        raise ApiError(422, "invalid_request", "ends_at must be after starts_at and after now")
    if body.ends_at - starts_at > MAX_SILENCE:
        raise ApiError(
            422, "too_long", f"a silence lasts at most {MAX_SILENCE.days} days; make a new one"
        )
    silence = Silence(body.scope, body.subject_id, starts_at, body.ends_at, who.user_id,
                      body.reason)  # fmt: skip
    with conn.transaction():
        silence_id = add_silence(conn, silence, now)
    return _one(conn, who, silence_id)


@router.post("/silences/{silence_id}/cancel")
def cancel(
    silence_id: Annotated[int, Path(ge=1, le=1 << 62)],
    request: Request,
    conn: Db,
    who: Writer,
) -> dict[str, Any]:
    """End a silence now: what it held is notified from now on."""
    _one(conn, who, silence_id)
    with conn.transaction():
        ended = cancel_silence(conn, silence_id, who.user_id, request.app.state.clock.now())
    if not ended:
        raise ApiError(409, "not_running", f"silence {silence_id} has already ended")
    return _one(conn, who, silence_id)
