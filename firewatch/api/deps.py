"""Request dependencies: the database, the caller, and what the caller may do."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated, Any

import psycopg
from fastapi import Depends, Request
from psycopg import sql
from psycopg.abc import Params
from psycopg.rows import dict_row
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


def db(request: Request) -> Iterator[psycopg.Connection]:
    pool: ConnectionPool | None = request.app.state.pool
    if pool is None:
        raise ApiError(503, "no_database", "the API has no database in this process")
    with pool.connection() as conn:
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
