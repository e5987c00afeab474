"""The registry over HTTP: read stations, venues and devices (venues and devices within the
caller's communities); write them with the importer's own checks; retire them."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query
from psycopg import sql
from psycopg.rows import dict_row

from firewatch.api.deps import Db, require, scope_filter
from firewatch.api.errors import ApiError
from firewatch.api.pages import MAX_LIMIT, page, resume
from firewatch.auth.roles import Permission
from firewatch.auth.users import Principal
from firewatch.registry import import_document
from firewatch.registry.errors import RegistryImportError

router = APIRouter(prefix="/api/v1", tags=["registry"])

Reader = Annotated[Principal, Depends(require(Permission.REGISTRY_READ))]
Writer = Annotated[Principal, Depends(require(Permission.REGISTRY_WRITE))]


class Kind(StrEnum):
    STATIONS = "stations"
    VENUES = "venues"
    DEVICES = "devices"


_TABLE = {Kind.STATIONS: "station", Kind.VENUES: "venue", Kind.DEVICES: "device"}
_KEY = {Kind.STATIONS: "station_id", Kind.VENUES: "venue_id", Kind.DEVICES: "device_id"}
# Devices take their community from their venue; stations serve several communities and are
# visible to everyone who may read the registry.
_SCOPED = {
    Kind.VENUES: sql.SQL("(%(communities)s::text[] IS NULL OR community = ANY(%(communities)s))"),
    Kind.DEVICES: sql.SQL(
        "(%(communities)s::text[] IS NULL OR venue_id IN"
        " (SELECT venue_id FROM venue WHERE community = ANY(%(communities)s)))"
    ),
    Kind.STATIONS: sql.SQL("true"),
}


def _select(kind: Kind, where: sql.Composable) -> sql.Composed:
    return sql.SQL("SELECT * FROM {} WHERE {} AND {} ORDER BY {} LIMIT %(limit)s").format(
        sql.Identifier(_TABLE[kind]), _SCOPED[kind], where, sql.Identifier(_KEY[kind])
    )


@router.get("/{kind}")
def list_records(
    kind: Kind,
    conn: Db,
    who: Reader,
    *,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
    cursor: str | None = None,
    include_retired: bool = False,
) -> dict[str, Any]:
    after = (resume(cursor, str) or [""])[0]
    where = sql.SQL("{} > %(after)s AND (%(retired)s OR retired_at IS NULL)").format(
        sql.Identifier(_KEY[kind])
    )
    rows = conn.cursor(row_factory=dict_row).execute(
        _select(kind, where),
        {"communities": scope_filter(who), "after": after, "retired": include_retired,
         "limit": limit + 1},
    ).fetchall()  # fmt: skip
    return page(rows, limit, (_KEY[kind],))


@router.get("/{kind}/{record_id}")
def get_record(kind: Kind, record_id: str, conn: Db, who: Reader) -> dict[str, Any]:
    where = sql.SQL("{} = %(id)s").format(sql.Identifier(_KEY[kind]))
    row = (
        conn.cursor(row_factory=dict_row)
        .execute(
            _select(kind, where), {"communities": scope_filter(who), "id": record_id, "limit": 1}
        )
        .fetchone()
    )
    if row is None:
        raise ApiError(404, "not_found", f"no {kind.value[:-1]} {record_id!r} you may see")
    return row


@router.put("/registry")
def write_registry(
    conn: Db,
    who: Writer,
    document: Annotated[dict[str, Any], Body(description="as CONTRACT.md section 2, JSON")],
) -> dict[str, Any]:
    """Create or update stations, venues and devices: all or nothing, every problem listed."""
    communities = scope_filter(who)
    if communities is not None:
        outside = [
            str(v.get("venue_id")) for v in document.get("venues", [])
            if not isinstance(v, dict) or v.get("community") not in communities
        ]  # fmt: skip
        if outside:
            raise ApiError(403, "forbidden", f"venues outside your communities: {outside}")
    try:
        report = import_document("request", json.dumps(document), conn)
    except RegistryImportError as exc:
        raise ApiError(422, "invalid_registry", str(exc)) from None
    return {"imported": str(report)}


@router.post("/{kind}/{record_id}/retire")
def retire(kind: Kind, record_id: str, conn: Db, who: Writer) -> dict[str, Any]:
    """A retired record stays for history; devices of it are no longer accepted by ingest."""
    get_record(kind, record_id, conn, who)
    conn.execute(
        sql.SQL("UPDATE {} SET retired_at = %s, updated_at = now() WHERE {} = %s").format(
            sql.Identifier(_TABLE[kind]), sql.Identifier(_KEY[kind])
        ),
        (datetime.now(UTC), record_id),
    )
    return {"retired": record_id}
