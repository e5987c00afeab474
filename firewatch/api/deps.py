"""Request dependencies: the database, the caller, and what the caller may do."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Annotated, Any, Final

import psycopg
from fastapi import Depends, Request
from psycopg import sql
from psycopg.abc import Params
from psycopg.rows import dict_row
from psycopg.types.json import set_json_loads
from psycopg_pool import ConnectionPool

from firewatch.api.errors import ApiError
from firewatch.auth.roles import Permission, allowed
from firewatch.auth.users import Principal, authenticate


def open_pool(url: str, size: int, query_timeout_s: float) -> ConnectionPool:
    """The API's connections: each statement cancelled after `query_timeout_s`, and a request
    that waits longer than that for a free connection is told the API is busy."""
    return ConnectionPool(
        url,
        min_size=1,
        max_size=size,
        timeout=query_timeout_s,
        kwargs={"options": f"-c statement_timeout={int(query_timeout_s * 1000)}"},
        open=True,
    )


MAX_JSON_DEPTH: Final = 64
"""Arrays and objects a json value shown as such may nest; the response serializer stops at
about 250 levels and Python's parser at about 1,000, while jsonb holds any depth."""


def json_value(data: str | bytes) -> Any:
    """A json or jsonb value as Python; one nested deeper than `MAX_JSON_DEPTH` is shown as its
    JSON text (a string) rather than failing the whole response.

    >>> json_value(b'{"a": [1]}'), json_value(b"[" * 5000 + b"]" * 5000)[:3]
    ({'a': [1]}, '[[[')
    """
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    try:
        value = json.loads(text)
    except RecursionError:
        return text
    if text.count("[") + text.count("{") <= MAX_JSON_DEPTH or _depth(value) <= MAX_JSON_DEPTH:
        return value
    return text


def _depth(value: Any) -> int:
    """How deep arrays and objects nest in a parsed json value (without recursing)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, depth)
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return deepest


def db(request: Request) -> Iterator[psycopg.Connection]:
    pool: ConnectionPool | None = request.app.state.pool
    if pool is None:
        raise ApiError(503, "no_database", "the API has no database in this process")
    with pool.connection() as conn:
        set_json_loads(json_value, conn)  # every json value this API reads, any depth
        yield conn


Db = Annotated[psycopg.Connection, Depends(db)]


def select(
    conn: psycopg.Connection, query: str | sql.Composed, params: Params
) -> list[dict[str, Any]]:
    """The rows of a query, each a dict by column name: what the resources return."""
    return conn.cursor(row_factory=dict_row).execute(query, params).fetchall()


def principal(request: Request, conn: Db) -> Principal:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise ApiError(401, "unauthenticated", "send Authorization: Bearer <token>")
    who = authenticate(conn, token.strip(), request.app.state.admin_token)
    if who is None:
        raise ApiError(401, "unauthenticated", "the token is unknown or revoked")
    request.state.principal = who  # the audit log records who made each write
    return who


def require(permission: Permission) -> Callable[..., Principal]:
    def check(who: Annotated[Principal, Depends(principal)]) -> Principal:
        if not allowed(who.role, permission):
            raise ApiError(403, "forbidden", f"role {who.role} may not {permission}")
        return who

    return check


def scope_filter(who: Principal) -> list[str] | None:
    """The communities a query must be limited to; None: all of them."""
    return list(who.communities) if who.communities else None
