"""Acknowledgement: signed, expiring, one-time links, and what a person's answer does.

A link carries a token: its claims (alert, recipient, notification, expiry) in base64url JSON
and an HMAC-SHA256 over them with a secret passed in. `check_token` is pure; redeeming it once
(recorded by the token's hash) is the stage's, through the API later (issue 9).

>>> from datetime import UTC, datetime, timedelta
>>> t = datetime(2026, 5, 1, 2, 0, tzinfo=UTC)
>>> key = b"0123456789abcdef0123"
>>> token = make_token(key, Claims("AL-1", "+8613800000001", "N-1", t + timedelta(hours=2)))
>>> check_token(key, token, t)[0], check_token(key, token, t + timedelta(hours=3))[0]
(<TokenCheck.VALID: 'valid'>, <TokenCheck.EXPIRED: 'expired'>)
>>> check_token(b"another-secret-of-20", token, t)[0]
<TokenCheck.BAD_SIGNATURE: 'bad_signature'>
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from urllib.parse import quote

from firewatch.alerting.records import AlertState


class TokenCheck(StrEnum):
    VALID = "valid"
    MALFORMED = "malformed"
    BAD_SIGNATURE = "bad_signature"
    EXPIRED = "expired"
    NO_SECRET = "no_secret"  # noqa: S105 - a reason, not a secret; acknowledgement links are off: no secret configured


@dataclass(frozen=True, slots=True)
class Claims:
    alert_id: str
    recipient: str  # who the link was sent to: who acknowledges
    notification_id: str
    expires_at: datetime


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _sign(secret: bytes, body: str) -> str:
    return _b64(hmac.new(secret, body.encode(), hashlib.sha256).digest())


def make_token(secret: bytes, claims: Claims) -> str:
    body = _b64(json.dumps(
        {"a": claims.alert_id, "r": claims.recipient, "n": claims.notification_id,
         "e": int(claims.expires_at.timestamp())}, separators=(",", ":")).encode()
    )  # fmt: skip
    return f"{body}.{_sign(secret, body)}"


def token_hash(token: str) -> str:
    """What is stored once a token is used (the signed part: one hash per token)."""
    return hashlib.sha256(token.partition(".")[0].encode()).hexdigest()


def check_token(secret: bytes, token: str, now: datetime) -> tuple[TokenCheck, Claims | None]:
    if not secret:
        return TokenCheck.NO_SECRET, None
    body, dot, signature = token.partition(".")
    if not dot or not body or not signature:
        return TokenCheck.MALFORMED, None
    # As bytes: compare_digest refuses str with non-ASCII characters, which a forged link may hold.
    if not hmac.compare_digest(_sign(secret, body).encode(), signature.encode()):
        return TokenCheck.BAD_SIGNATURE, None
    try:
        raw = json.loads(_unb64(body))
        claims = Claims(str(raw["a"]), str(raw["r"]), str(raw["n"]),
                        datetime.fromtimestamp(int(raw["e"]), UTC))  # fmt: skip
    except (ValueError, KeyError, TypeError, binascii.Error):
        return TokenCheck.MALFORMED, None
    if now >= claims.expires_at:
        return TokenCheck.EXPIRED, claims
    return TokenCheck.VALID, claims


def ack_url(base_url: str, token: str) -> str:
    """The link a notification carries.

    >>> ack_url("https://fw.example/api/v1/ack", "abc.def")
    'https://fw.example/api/v1/ack?token=abc.def'
    """
    return f"{base_url}{'&' if '?' in base_url else '?'}token={quote(token, safe='.-_')}"


# -- what a person's answer does -------------------------------------------------------------


class Answer(StrEnum):
    """The outcome of an acknowledgement, a dismissal or an operator's confirmation."""

    ACKNOWLEDGED = "acknowledged"  # a confirmed alert: escalation stops
    INVESTIGATING = "investigating"  # a pending one: the contact's investigation window starts
    ALREADY_ACKNOWLEDGED = "already_acknowledged"
    ALREADY_INVESTIGATING = "already_investigating"
    DISMISSED = "dismissed"  # a pending alert dismissed as false by whoever investigated it
    CONFIRMED = "confirmed"  # an operator confirmed a pending alert
    RESOLVED = "resolved"
    ARRIVED = "arrived"  # the station is on the scene (an unacknowledged alert is acknowledged)
    NOT_PENDING = "not_pending"  # only a pending alert can be dismissed or confirmed by hand
    ALERT_RESOLVED = "alert_resolved"  # too late: it is over
    UNKNOWN_ALERT = "unknown_alert"
    TOKEN_USED = "token_used"  # noqa: S105 - a reason, not a secret


def decide_ack(state: AlertState, investigating: bool) -> Answer:
    if state == AlertState.CONFIRMED:
        return Answer.ACKNOWLEDGED
    if state == AlertState.PENDING:
        return Answer.ALREADY_INVESTIGATING if investigating else Answer.INVESTIGATING
    if state == AlertState.ACKNOWLEDGED:
        return Answer.ALREADY_ACKNOWLEDGED
    return Answer.ALERT_RESOLVED


def decide_pending(state: AlertState, wanted: Answer) -> Answer:
    """Dismissing or confirming by hand: only while the alert is pending."""
    if state == AlertState.PENDING:
        return wanted
    return Answer.ALERT_RESOLVED if state == AlertState.RESOLVED else Answer.NOT_PENDING


def decide_resolve(state: AlertState) -> Answer:
    return Answer.ALERT_RESOLVED if state == AlertState.RESOLVED else Answer.RESOLVED
