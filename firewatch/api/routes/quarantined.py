"""GET /api/v1/quarantined: stored batches (or single inputs of one) a stage kept failing on.

A stage that raises on a batch retries it with backoff; one that still fails is kept here with
the error and the stage goes on (firewatch/evaluation.py). Each item names the stage, the
engine partition, the batch's position (its rows carry it in their `pos` column), how many
attempts were made, the error, and the input when only one input of the batch failed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from firewatch.api.deps import Db, require, select
from firewatch.api.pages import MAX_LIMIT, page, resume
from firewatch.auth.roles import Permission
from firewatch.auth.users import Principal

router = APIRouter(prefix="/api/v1", tags=["quarantined"])


@router.get(
    "/quarantined",
    description="Oldest first from `since`; `stage` is one of rules, risk, cases, alerting.",
)
def list_quarantined(
    conn: Db,
    _who: Annotated[Principal, Depends(require(Permission.REJECTED_READ))],
    since: datetime | None = None,
    stage: str | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
    cursor: str | None = None,
) -> dict[str, Any]:
    after_id = (resume(cursor, int) or [0])[0]
    rows = select(
        conn,
        "SELECT id AS quarantine_id, stage, partition, pos AS position, attempts, error, item,"
        " quarantined_at FROM quarantined_batch WHERE id > %(after)s"
        " AND (%(since)s::timestamptz IS NULL OR quarantined_at >= %(since)s)"
        " AND (%(stage)s::text IS NULL OR stage = %(stage)s)"
        " ORDER BY id LIMIT %(limit)s",
        {"after": after_id, "since": since, "stage": stage, "limit": limit + 1},
    )
    return page(rows, limit, ("quarantine_id",))
