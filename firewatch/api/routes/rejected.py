"""GET /api/v1/rejected: messages not accepted, with topic, raw payload and reason."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from firewatch.api.deps import Db, require, select
from firewatch.api.pages import MAX_LIMIT, page, resume
from firewatch.auth.roles import Permission
from firewatch.auth.users import Principal

router = APIRouter(prefix="/api/v1", tags=["rejected"])


@router.get("/rejected")
def list_rejected(
    conn: Db,
    _who: Annotated[Principal, Depends(require(Permission.REJECTED_READ))],
    since: datetime | None = None,
    reason: str | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
    cursor: str | None = None,
) -> dict[str, Any]:
    """Oldest first from `since`; the payload is base64 (it may not be text at all)."""
    after_id = (resume(cursor, int) or [0])[0]
    rows = select(
        conn,
        "SELECT rejected_id, received_at, topic, payload, reason, detail FROM rejected_message"
        " WHERE rejected_id > %(after)s"
        " AND (%(since)s::timestamptz IS NULL OR received_at >= %(since)s)"
        " AND (%(reason)s::text IS NULL OR reason = %(reason)s)"
        " ORDER BY rejected_id LIMIT %(limit)s",
        {"after": after_id, "since": since, "reason": reason, "limit": limit + 1},
    )
    items = [
        {**row, "payload_base64": base64.b64encode(row.pop("payload")).decode()} for row in rows
    ]
    return page(items, limit, ("rejected_id",))
