"""Hazard cases over HTTP: list with filters, one case with its history, move and dispatch.

Which role may make which move is the cases stage's own table; the API only says who is
asking (`cases.Actor`) and turns the stage's refusals into the one error shape."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.encoders import jsonable_encoder
from pydantic import BaseModel, Field

from firewatch.api.deps import Db, require, scope_filter
from firewatch.api.errors import ApiError
from firewatch.api.pages import MAX_LIMIT, page, resume
from firewatch.auth.roles import Permission
from firewatch.auth.users import Principal
from firewatch.cases import (
    Actor,
    Case,
    CaseError,
    CaseNotFoundError,
    ConflictError,
    IllegalMoveError,
    PartState,
    Role,
    Stage,
    Supervision,
    dispatch,
    find,
    load,
    move,
    move_part,
    settings_from_config,
)

router = APIRouter(prefix="/api/v1", tags=["cases"])

Reader = Annotated[Principal, Depends(require(Permission.CASES_READ))]
Mover = Annotated[Principal, Depends(require(Permission.CASES_MOVE))]


class MoveBody(BaseModel):
    to: Stage
    note: str = Field(default="", max_length=2000)
    attachments: list[Annotated[str, Field(max_length=500)]] = Field(default=[], max_length=20)
    expected_version: int | None = Field(default=None, ge=0, le=1 << 31)


class PartBody(BaseModel):
    to: PartState
    note: str = Field(default="", max_length=2000)
    expected_version: int | None = Field(default=None, ge=0, le=1 << 31)


class DispatchBody(BaseModel):
    departments: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(max_length=20)
    note: str = Field(default="", max_length=2000)
    expected_version: int | None = Field(default=None, ge=0, le=1 << 31)


def _shown(case: Case) -> dict[str, Any]:
    body: dict[str, Any] = jsonable_encoder(asdict(case))
    return body


def _visible(conn: Db, who: Principal, case_id: str) -> Case:
    try:
        case = load(conn, case_id)
    except CaseNotFoundError:
        case = None
    if case is None or not who.sees(case.community):
        raise ApiError(404, "not_found", f"no case {case_id!r} you may see")
    return case


def _refusal(exc: CaseError) -> ApiError:
    if isinstance(exc, IllegalMoveError):
        return ApiError(403, "illegal_move", str(exc))
    if isinstance(exc, ConflictError):
        return ApiError(409, "conflict", str(exc))
    return ApiError(422, "refused", str(exc))


def _actor(who: Principal) -> Actor:
    return Actor(who.user_id, Role(who.role.value), who.department)


@router.get("/cases")
def list_cases(
    conn: Db,
    who: Reader,
    *,
    venue_id: str | None = None,
    stage: Stage | None = None,
    supervision: Supervision | None = None,
    open_only: bool = False,
    community: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
    cursor: str | None = None,
) -> dict[str, Any]:
    """Cases by id; `since` / `until` bound when they were opened; `supervision` lists the
    cases under listed supervision (挂牌督办)."""
    after = (resume(cursor, str) or [""])[0]
    communities = scope_filter(who)
    if community is not None:
        communities = [community] if who.sees(community) else []
    cases = find(
        conn, venue_id=venue_id, stage=stage, supervision=supervision, open_only=open_only,
        communities=communities, since=since, until=until, after=after, limit=limit + 1,
    )  # fmt: skip
    return page([_shown(c) for c in cases], limit, ("case_id",))


@router.get("/cases/{case_id}")
def get_case(case_id: str, conn: Db, who: Reader) -> dict[str, Any]:
    return _shown(_visible(conn, who, case_id))


@router.post("/cases/{case_id}/move")
def move_case(
    case_id: str, body: MoveBody, request: Request, conn: Db, who: Mover
) -> dict[str, Any]:
    _visible(conn, who, case_id)
    try:
        moved = move(
            conn,
            case_id,
            body.to,
            _actor(who),
            now=request.app.state.clock.now(),
            note=body.note,
            attachments=body.attachments,
            expected_version=body.expected_version,
        )
    except CaseError as exc:
        raise _refusal(exc) from None
    return _shown(moved)


@router.post("/cases/{case_id}/dispatch")
def dispatch_case(
    case_id: str, body: DispatchBody, request: Request, conn: Db, who: Mover
) -> dict[str, Any]:
    _visible(conn, who, case_id)
    try:
        moved = dispatch(
            conn,
            case_id,
            body.departments,
            _actor(who),
            now=request.app.state.clock.now(),
            settings=settings_from_config(request.app.state.config),
            note=body.note,
            expected_version=body.expected_version,
        )
    except CaseError as exc:
        raise _refusal(exc) from None
    return _shown(moved)


@router.post("/cases/{case_id}/parts/{department}")
def move_case_part(
    case_id: str, department: str, *, body: PartBody, request: Request, conn: Db, who: Mover
) -> dict[str, Any]:
    """A department accepts its part, reports it done, or declines it with a note."""
    _visible(conn, who, case_id)
    try:
        moved = move_part(
            conn,
            case_id,
            department,
            body.to,
            _actor(who),
            now=request.app.state.clock.now(),
            note=body.note,
            expected_version=body.expected_version,
        )
    except CaseError as exc:
        raise _refusal(exc) from None
    return _shown(moved)
