"""Request hygiene: a body size limit, and the audit log of every write (who, what, when, from
where), written after the response is known so that refused attempts are recorded too."""

from __future__ import annotations

import json
import logging
from typing import Any

import anyio.to_thread
from psycopg_pool import ConnectionPool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from firewatch.api.errors import error_body

log = logging.getLogger("firewatch.api")

WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class BodyLimit:
    """Refuses request bodies over `limit` bytes with 413, whether announced or streamed."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await _reply(
                send, 413, "too_large", f"request bodies are limited to {self.limit} bytes"
            )
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:
                raise _TooLargeError
            return message

        try:
            await self.app(scope, counted, send)
        except _TooLargeError:
            await _reply(
                send, 413, "too_large", f"request bodies are limited to {self.limit} bytes"
            )


class _TooLargeError(Exception):
    pass


async def _reply(send: Send, status: int, code: str, message: str) -> None:
    body = json.dumps(error_body(code, message)).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": body})


class AuditLog:
    """Records every write request with its outcome in the append-only `audit_log` table."""

    def __init__(self, app: ASGIApp, pool: ConnectionPool | None) -> None:
        self.app, self.pool = app, pool

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in WRITES or self.pool is None:
            await self.app(scope, receive, send)
            return
        recorded = False

        async def watched(message: Message) -> None:
            nonlocal recorded
            if message["type"] == "http.response.start":
                # Recorded before the caller hears the answer: whoever reads the log next
                # finds the write in it.
                await anyio.to_thread.run_sync(self._record, scope, message["status"])
                recorded = True
            await send(message)

        try:
            await self.app(scope, receive, watched)
        finally:
            if not recorded:
                await anyio.to_thread.run_sync(self._record, scope, 500)

    def _record(self, scope: Scope, status: int) -> None:
        who = scope.get("state", {}).get("principal")
        client = scope.get("client") or ("?", 0)
        detail: dict[str, Any] = {"query": scope.get("query_string", b"").decode("latin-1")}
        assert self.pool is not None
        try:
            with self.pool.connection() as conn:
                conn.execute(
                    "INSERT INTO audit_log (user_id, role, method, path, status, client, detail)"
                    " VALUES (%s, %s, %s, %s, %s, %s, %s)",
                    (
                        who.user_id if who else "anonymous",
                        who.role.value if who else "none",
                        scope["method"],
                        scope["path"],
                        status,
                        f"{client[0]}:{client[1]}",
                        json.dumps(detail),
                    ),
                )
        except Exception:
            # A write that happened must not look failed because its audit row could not be
            # written; the failure is loud in the log instead.
            log.exception("audit record of %s %s not written", scope["method"], scope["path"])
