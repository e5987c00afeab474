"""GET /api/v1/rejected: messages not accepted, with topic, raw payload and reason.

A rejected payload is whatever a device sent — often not UTF-8, not JSON, not even short — so
it is shown as data, never trusted as text: `payload` is the text when the bytes are UTF-8,
else their base64, as `payload_encoding` says; `payload_base64` is always the base64; only the
first `MAX_PAYLOAD_SHOWN` bytes are read (`payload_size` is the stored length,
`payload_truncated` whether it was cut).

>>> shown(b"\\xff\\x00", 2)["payload_encoding"], shown("火".encode(), 3)["payload"]
('base64', '火')
"""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, Query

from firewatch.api.deps import Db, require, select
from firewatch.api.pages import MAX_LIMIT, page, resume
from firewatch.auth.roles import Permission
from firewatch.auth.users import Principal

router = APIRouter(prefix="/api/v1", tags=["rejected"])

MAX_PAYLOAD_SHOWN: Final = 16 * 1024
"""Bytes of a payload shown: four times the contract's 4 KiB limit, so a page stays small
however large the messages a device sent."""


def shown(payload: bytes, size: int) -> dict[str, Any]:
    """The payload's fields of a rejected message: its first bytes as text or base64."""
    encoded = base64.b64encode(payload).decode()
    try:
        text, encoding = payload.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        text, encoding = encoded, "base64"
    return {
        "payload": text,
        "payload_encoding": encoding,
        "payload_base64": encoded,
        "payload_size": size,
        "payload_truncated": size > len(payload),
    }


@router.get(
    "/rejected",
    description="Oldest first from `since`. `payload` is the message's bytes as text when they"
    " are UTF-8, else as base64 (`payload_encoding`: `utf-8` or `base64`); `payload_base64` is"
    f" always base64. At most the first {MAX_PAYLOAD_SHOWN} bytes are shown: `payload_size` is"
    " the stored length, `payload_truncated` says whether the payload was cut.",
)
def list_rejected(
    conn: Db,
    _who: Annotated[Principal, Depends(require(Permission.REJECTED_READ))],
    since: datetime | None = None,
    reason: str | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
    cursor: str | None = None,
) -> dict[str, Any]:
    after_id = (resume(cursor, int) or [0])[0]
    rows = select(
        conn,
        "SELECT rejected_id, received_at, topic, reason, detail,"
        " substring(payload FROM 1 FOR %(shown)s) AS payload, octet_length(payload) AS payload_size"
        " FROM rejected_message WHERE rejected_id > %(after)s"
        " AND (%(since)s::timestamptz IS NULL OR received_at >= %(since)s)"
        " AND (%(reason)s::text IS NULL OR reason = %(reason)s)"
        " ORDER BY rejected_id LIMIT %(limit)s",
        {"shown": MAX_PAYLOAD_SHOWN, "after": after_id, "since": since, "reason": reason,
         "limit": limit + 1},
    )  # fmt: skip
    # The stored bytes never reach the response as such: `shown` replaces both columns.
    items = [{**row, **shown(row["payload"], row["payload_size"])} for row in rows]
    return page(items, limit, ("rejected_id",))
