"""What every channel shares: a JSON POST, and the classes of failure (also the metric label).

>>> [str(classify_status(s)) for s in (204, 429, 503, 403, 404)]
['None', 'rate_limited', 'server_error', 'auth', 'client_error']
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final, Protocol

import httpx


class Failure(StrEnum):
    CLIENT_ERROR = "client_error"  # 4xx: the receiver refuses what we send
    AUTH = "auth"  # 401, 403: we are not let in
    RATE_LIMITED = "rate_limited"  # 429: slow down (Retry-After honoured)
    SERVER_ERROR = "server_error"  # 5xx
    TIMEOUT = "timeout"  # no answer in time (the receiver may still have it: same id again)
    CONNECTION = "connection"  # refused, reset, no route


RETRYABLE: Final = frozenset(
    {Failure.RATE_LIMITED, Failure.SERVER_ERROR, Failure.TIMEOUT, Failure.CONNECTION}
)
"""Worth retrying soon. The others are retried too (the contract: until a 2xx), but only at
the slowest pace: they need a person to fix a configuration first."""


@dataclass(frozen=True, slots=True)
class Sent:
    failure: Failure | None  # None: delivered (2xx)
    status: int | None
    detail: str
    retry_after_s: float | None = None

    @property
    def ok(self) -> bool:
        return self.failure is None


def classify_status(status: int) -> Failure | None:
    if 200 <= status < 300:
        return None
    if status in (401, 403):
        return Failure.AUTH
    if status == 408:
        return Failure.TIMEOUT
    if status == 429:
        return Failure.RATE_LIMITED
    if status >= 500:
        return Failure.SERVER_ERROR
    return Failure.CLIENT_ERROR  # other 4xx, and 1xx/3xx: redirects are not followed


def _retry_after(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None  # an HTTP date: ignored, our own backoff applies


class Channel(Protocol):
    name: str

    def shape(self, body: dict[str, Any]) -> dict[str, Any]:
        """The contract body as this channel sends it (called once, when it is queued)."""
        ...

    def send(self, body: bytes, notification_id: str) -> Sent: ...


class HttpChannel:
    """POST the stored body as JSON; never raises for a receiver's failure, classifies it."""

    name = "http"

    def __init__(self, url: str, client: httpx.Client, timeout_s: float) -> None:
        self.url = url
        self._client = client
        self._timeout = timeout_s

    def shape(self, body: dict[str, Any]) -> dict[str, Any]:
        return body

    def send(self, body: bytes, notification_id: str) -> Sent:
        headers = {"content-type": "application/json", "idempotency-key": notification_id}
        try:
            response = self._client.post(
                self.url, content=body, headers=headers, timeout=self._timeout
            )
        except httpx.TimeoutException:
            return Sent(Failure.TIMEOUT, None, f"POST {self.url}: no answer in {self._timeout} s")
        except httpx.TransportError as exc:
            return Sent(Failure.CONNECTION, None, f"POST {self.url}: {type(exc).__name__} {exc}")
        failure = classify_status(response.status_code)
        detail = f"POST {self.url}: HTTP {response.status_code}"
        return Sent(failure, response.status_code, detail,
                    _retry_after(response.headers.get("retry-after")))  # fmt: skip
