"""Reports over HTTP: the monthly assessment (考核) per community and department, and the
inspection coverage of the venues (each venue inspected within its category's cycle).

A community-scoped reader gets the assessment of their communities only: its total is theirs
and the departments are ranked on their share of the cases."""

from __future__ import annotations

from dataclasses import asdict
from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.encoders import jsonable_encoder

from firewatch.api.deps import Db, require
from firewatch.api.errors import ApiError
from firewatch.api.pages import MAX_LIMIT, page, resume
from firewatch.auth.roles import Permission
from firewatch.auth.users import Principal
from firewatch.cases import settings_from_config
from firewatch.cases.assessment import Month, assess, render_csv, render_html
from firewatch.cases.inspections import Coverage, coverage

router = APIRouter(prefix="/api/v1", tags=["reports"])


class Format(StrEnum):
    JSON = "json"
    CSV = "csv"
    HTML = "html"


@router.get("/reports/assessment", response_model=None)
def assessment(
    request: Request,
    conn: Db,
    who: Annotated[Principal, Depends(require(Permission.REPORTS_READ))],
    month: Annotated[str, Query(pattern=r"^\d{4}-\d{2}$", examples=["2026-11"])],
    format: Format = Format.JSON,
) -> dict[str, Any] | Response:
    try:
        wanted = Month.parse(month)
    except ValueError as exc:
        raise ApiError(422, "invalid_request", str(exc)) from None
    settings = settings_from_config(request.app.state.config)
    report = assess(conn, wanted, settings, who.communities or None)
    if format is Format.CSV:
        return Response(render_csv(report), media_type="text/csv; charset=utf-8")
    if format is Format.HTML:
        return Response(render_html(report), media_type="text/html; charset=utf-8")
    body: dict[str, Any] = jsonable_encoder(asdict(report))
    return body


@router.get("/inspections/coverage")
def inspection_coverage(
    request: Request,
    conn: Db,
    who: Annotated[Principal, Depends(require(Permission.COVERAGE_READ))],
    *,
    community: str | None = None,
    grid: str | None = None,
    state: Coverage | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
    cursor: str | None = None,
) -> dict[str, Any]:
    """Each venue's last inspection and whether it is covered, due or overdue in its cycle,
    with the counts of the whole selection."""
    after = (resume(cursor, str) or [""])[0]
    zone = settings_from_config(request.app.state.config).zone
    venues = [
        v
        for v in coverage(conn, request.app.state.clock.now(), zone)
        if who.sees(v.community)
        and community in (None, v.community)
        and grid in (None, v.grid)
        and state in (None, v.state)
    ]
    counts = {s.value: sum(1 for v in venues if v.state is s) for s in Coverage}
    shown = sorted(
        (jsonable_encoder(asdict(v)) for v in venues if v.venue_id > after),
        key=lambda v: str(v["venue_id"]),
    )
    return {**page(shown[: limit + 1], limit, ("venue_id",)), "counts": counts}
