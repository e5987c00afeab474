"""Cursor pagination: a page of rows and an opaque cursor that continues after its last row.

>>> cursor = encode_cursor(("2026-11-29T08:00:00+00:00", 42))
>>> decode_cursor(cursor)
['2026-11-29T08:00:00+00:00', 42]
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

from firewatch.api.errors import ApiError

MAX_LIMIT = 500


def encode_cursor(key: tuple[Any, ...]) -> str:
    return base64.urlsafe_b64encode(json.dumps(key, default=str).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        key = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except ValueError:
        raise ApiError(400, "bad_cursor", "the cursor is not one this API gave out") from None
    if not isinstance(key, list):
        raise ApiError(400, "bad_cursor", "the cursor is not one this API gave out")
    return key


def resume(cursor: str | None, *kinds: Callable[[Any], Any]) -> list[Any] | None:
    """The key a cursor continues after, each field made `kinds`' type; None: from the start.

    >>> from datetime import datetime
    >>> resume(encode_cursor(("2026-11-29T08:00:00+00:00", "AL-1")), datetime.fromisoformat, str)
    [datetime.datetime(2026, 11, 29, 8, 0, tzinfo=datetime.timezone.utc), 'AL-1']
    """
    if not cursor:
        return None
    key = decode_cursor(cursor)
    try:
        if len(key) == len(kinds):
            return [kind(value) for kind, value in zip(kinds, key, strict=True)]
    except (TypeError, ValueError):
        pass
    raise ApiError(400, "bad_cursor", "the cursor is not one this API gave out")


def page(items: list[dict[str, Any]], limit: int, key_fields: tuple[str, ...]) -> dict[str, Any]:
    """`items` holds up to limit + 1 rows: the extra one only says there is more."""
    more = len(items) > limit
    items = items[:limit]
    next_cursor = encode_cursor(tuple(items[-1][f] for f in key_fields)) if more else None
    return {"items": items, "next_cursor": next_cursor}
