"""Alerts over HTTP (CONTRACT.md section 4): list and read them; acknowledge, report arrival
and resolve (stations and the control room); confirm or dismiss a pending one (control room).

What each action does to an alert is the alerting stage's (`alerting.people`); the API says who
is asking, within their communities, and turns the stage's answers into statuses: done or
already done is 200, too late or not possible now is 409 with the stage's reason."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

import psycopg
from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel

from firewatch.alerting import (
    AlertKind,
    AlertState,
    Answer,
    Env,
    acknowledge,
    arrive,
    confirm,
    dismiss,
    load_directory,
    resolve,
)
from firewatch.api.deps import Db, require, scope_filter, select
from firewatch.api.errors import ApiError
from firewatch.api.pages import MAX_LIMIT, page, resume
from firewatch.auth.roles import Permission
from firewatch.auth.users import Principal
from firewatch.kernel.contract import Level
from firewatch.logs import redact

router = APIRouter(prefix="/api/v1", tags=["alerts"])

Reader = Annotated[Principal, Depends(require(Permission.ALERTS_READ))]
Responder = Annotated[Principal, Depends(require(Permission.ALERTS_ACK))]
Manager = Annotated[Principal, Depends(require(Permission.ALERTS_MANAGE))]

_SELECT = """
SELECT a.alert_id, a.venue_id, v.community,
       coalesce((SELECT array_agg(d.device_id ORDER BY d.first_at, d.device_id)
                 FROM alert_device d WHERE d.alert_id = a.alert_id), '{}') AS device_ids,
       a.kind, a.level, a.state, a.opened_at, a.confirmed_at, a.acked_at, a.acked_by,
       a.resolved_at, a.resolution, a.summary, a.case_id, a.muted, a.escalation_step
FROM alert a JOIN venue v ON v.venue_id = a.venue_id
"""

_DONE = {Answer.ACKNOWLEDGED, Answer.INVESTIGATING, Answer.CONFIRMED, Answer.DISMISSED,
         Answer.RESOLVED, Answer.ARRIVED, Answer.ALREADY_ACKNOWLEDGED,
         Answer.ALREADY_INVESTIGATING}  # fmt: skip
_TOO_LATE = {
    Answer.ALERT_RESOLVED: "the alert is already resolved",
    Answer.NOT_PENDING: "only a pending alert can be confirmed or dismissed by hand",
}


class ResolveBody(BaseModel):
    false_alarm: bool = False  # counted against the venue's false-alarm limit


@router.get("/alerts")
def list_alerts(
    conn: Db,
    who: Reader,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    community: str | None = None,
    venue_id: str | None = None,
    kind: AlertKind | None = None,
    level: Level | None = None,
    state: AlertState | None = None,
    open_only: bool = False,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
    cursor: str | None = None,
) -> dict[str, Any]:
    """Alerts opened at or after `since` (and before `until`), oldest first."""
    after = resume(cursor, datetime.fromisoformat, str)
    rows = select(
        conn,
        _SELECT + " WHERE (%(communities)s::text[] IS NULL OR v.community = ANY(%(communities)s))"
        " AND (%(since)s::timestamptz IS NULL OR a.opened_at >= %(since)s)"
        " AND (%(until)s::timestamptz IS NULL OR a.opened_at < %(until)s)"
        " AND (%(community)s::text IS NULL OR v.community = %(community)s)"
        " AND (%(venue)s::text IS NULL OR a.venue_id = %(venue)s)"
        " AND (%(kind)s::text IS NULL OR a.kind = %(kind)s)"
        " AND (%(level)s::text IS NULL OR a.level = %(level)s)"
        " AND (%(state)s::text IS NULL OR a.state = %(state)s)"
        " AND (NOT %(open_only)s OR a.state <> 'resolved')"
        " AND (%(after_at)s::timestamptz IS NULL"
        "      OR (a.opened_at, a.alert_id) > (%(after_at)s, %(after_id)s))"
        " ORDER BY a.opened_at, a.alert_id LIMIT %(limit)s",
        {
            "communities": scope_filter(who),
            "since": since,
            "until": until,
            "community": community,
            "venue": venue_id,
            "kind": kind,
            "level": level,
            "state": state,
            "open_only": open_only,
            "after_at": after[0] if after else None,
            "after_id": after[1] if after else None,
            "limit": limit + 1,
        },
    )
    return page(rows, limit, ("opened_at", "alert_id"))


def _visible(conn: psycopg.Connection, who: Principal, alert_id: str) -> dict[str, Any]:
    rows = select(conn, _SELECT + " WHERE a.alert_id = %s", (alert_id,))
    if not rows or not who.sees(rows[0]["community"]):
        raise ApiError(404, "not_found", f"no alert {alert_id!r} you may see")
    return rows[0]


def _details(conn: psycopg.Connection, row: dict[str, Any]) -> dict[str, Any]:
    alert_id = row["alert_id"]
    devices = select(
        conn,
        "SELECT device_id, level, muted, first_at, last_at, alarming, hushed_at, cleared_at"
        " FROM alert_device WHERE alert_id = %s ORDER BY first_at, device_id",
        (alert_id,),
    )
    history = select(
        conn,
        "SELECT seq, at, from_state, to_state, reason, actor FROM alert_transition"
        " WHERE alert_id = %s ORDER BY seq",
        (alert_id,),
    )
    notices = select(
        conn,
        "SELECT notification_id, channel, recipient, purpose, level, state, created_at,"
        " delivered_at, attempts FROM notification WHERE alert_id = %s ORDER BY created_at,"
        " notification_id",
        (alert_id,),
    )
    for n in notices:  # who was called is shown, their numbers are not
        n["recipient"] = redact(n["recipient"])
    return {**row, "devices": devices, "history": history, "notifications": notices}


@router.get("/alerts/{alert_id}")
def get_alert(alert_id: str, conn: Db, who: Reader) -> dict[str, Any]:
    """One alert with its devices, its history of transitions and its notifications."""
    return _details(conn, _visible(conn, who, alert_id))


Action = Callable[[psycopg.Connection, str, str, datetime, Env], Answer]


def _act(request: Request, conn: psycopg.Connection, who: Principal, alert_id: str,
         action: Action) -> dict[str, Any]:  # fmt: skip
    settings = request.app.state.alert_settings
    if settings is None:
        raise ApiError(503, "no_alerting", "the alerting stage does not run in this process")
    _visible(conn, who, alert_id)
    env = Env(settings, load_directory(conn))
    answer = action(conn, alert_id, who.user_id, request.app.state.clock.now(), env)
    if answer in _TOO_LATE:
        raise ApiError(409, str(answer), _TOO_LATE[answer])
    if answer not in _DONE:
        raise ApiError(404, "not_found", f"no alert {alert_id!r} you may see")
    return {"outcome": str(answer), "alert": _visible(conn, who, alert_id)}


@router.post("/alerts/{alert_id}/acknowledge")
def acknowledge_alert(alert_id: str, request: Request, conn: Db, who: Responder) -> dict[str, Any]:
    """Acknowledge a confirmed alert (escalation stops), or take up a pending one."""
    return _act(request, conn, who, alert_id, acknowledge)


@router.post("/alerts/{alert_id}/arrival")
def report_arrival(alert_id: str, request: Request, conn: Db, who: Responder) -> dict[str, Any]:
    """The station is on the scene."""
    return _act(request, conn, who, alert_id, arrive)


@router.post("/alerts/{alert_id}/resolve")
def resolve_alert(
    alert_id: str, body: ResolveBody, request: Request, conn: Db, who: Responder
) -> dict[str, Any]:
    """The outcome: the alert is over (a false alarm or not); everyone called stands down."""

    def resolved(c: psycopg.Connection, a: str, by: str, now: datetime, env: Env) -> Answer:
        return resolve(c, a, by, now, env, false_alarm=body.false_alarm)

    return _act(request, conn, who, alert_id, resolved)


@router.post("/alerts/{alert_id}/confirm")
def confirm_alert(alert_id: str, request: Request, conn: Db, who: Manager) -> dict[str, Any]:
    """Confirm a pending alert by hand: the station is called at once."""
    return _act(request, conn, who, alert_id, confirm)


@router.post("/alerts/{alert_id}/dismiss")
def dismiss_alert(alert_id: str, request: Request, conn: Db, who: Manager) -> dict[str, Any]:
    """Dismiss a pending alert as false after investigating it."""
    return _act(request, conn, who, alert_id, dismiss)
