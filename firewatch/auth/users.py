"""API users: created with a fresh token shown once, stored as a hash, revoked by name."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import psycopg

from firewatch.auth.roles import Role
from firewatch.errors import UserError

TOKEN_PREFIX = "fwt_"  # noqa: S105  # a marker that makes leaked tokens findable, not a secret


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: a user (or the bootstrap admin) with a role and a community scope."""

    user_id: str
    role: Role
    communities: tuple[str, ...]  # empty: every community
    station_id: str | None = None
    department: str | None = None

    def sees(self, community: str) -> bool:
        return not self.communities or community in self.communities


BOOTSTRAP_ADMIN = "bootstrap-admin"


def token_hash(token: str) -> str:
    """Tokens are 256 random bits: a plain SHA-256 is enough to keep them out of the table."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def create_user(
    conn: psycopg.Connection,
    user_id: str,
    role: Role,
    communities: Sequence[str] = (),
    *,
    station_id: str | None = None,
    department: str | None = None,
) -> str:
    """Create a user and return its token (the only time it is ever visible)."""
    token = new_token()
    try:
        conn.execute(
            "INSERT INTO api_user (user_id, role, communities, station_id, department, token_hash)"
            " VALUES (%s, %s, %s, %s, %s, %s)",
            (user_id, role.value, list(communities), station_id, department, token_hash(token)),
        )
    except psycopg.errors.UniqueViolation:
        raise UserError(f"user {user_id!r} already exists") from None
    except psycopg.errors.CheckViolation:
        raise UserError(f"user id {user_id!r} must match [A-Za-z0-9_.@-]{{1,64}}") from None
    except psycopg.errors.ForeignKeyViolation:
        raise UserError(f"station {station_id!r} does not exist") from None
    return token


def revoke_user(conn: psycopg.Connection, user_id: str, at: datetime) -> None:
    cur = conn.execute(
        "UPDATE api_user SET revoked_at = %s WHERE user_id = %s AND revoked_at IS NULL",
        (at, user_id),
    )
    if cur.rowcount == 0:
        raise UserError(f"no active user {user_id!r}")


def list_users(
    conn: psycopg.Connection,
) -> list[tuple[str, str, list[str], datetime, datetime | None]]:
    return conn.execute(
        "SELECT user_id, role, communities, created_at, revoked_at FROM api_user ORDER BY user_id"
    ).fetchall()


def authenticate(conn: psycopg.Connection, token: str, admin_token: str | None) -> Principal | None:
    """The principal a bearer token stands for, or None."""
    if admin_token and hmac.compare_digest(token.encode(), admin_token.encode()):
        return Principal(BOOTSTRAP_ADMIN, Role.ADMIN, ())
    row = conn.execute(
        "SELECT user_id, role, communities, station_id, department FROM api_user"
        " WHERE token_hash = %s AND revoked_at IS NULL",
        (token_hash(token),),
    ).fetchone()
    if row is None:
        return None
    user_id, role, communities, station_id, department = row
    return Principal(user_id, Role(role), tuple(communities), station_id, department)
