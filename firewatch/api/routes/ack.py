"""GET /api/v1/ack?token=...: the acknowledgement link in every notification.

The token is the credential (signed, expiring, one-time, CONTRACT.md section 3), so this is the
one resource without a bearer token; a used, expired or forged link is refused."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from firewatch.alerting import Answer, Env, TokenCheck, load_directory, redeem
from firewatch.api.deps import Db
from firewatch.api.errors import ApiError

router = APIRouter(prefix="/api/v1", tags=["alerts"])

_REFUSED = {
    TokenCheck.MALFORMED: "the link is not one firewatch sent",
    TokenCheck.BAD_SIGNATURE: "the link is not one firewatch sent",
    TokenCheck.EXPIRED: "the link has expired: acknowledge in the app or call the control room",
    TokenCheck.NO_SECRET: "acknowledgement links are not enabled on this engine",
    Answer.TOKEN_USED: "the link has already been used",
    Answer.UNKNOWN_ALERT: "the alert of this link does not exist",
}


@router.get("/ack")
def acknowledge_link(
    request: Request, conn: Db, token: Annotated[str, Query(max_length=2048)]
) -> dict[str, Any]:
    settings = request.app.state.alert_settings
    if settings is None:
        raise ApiError(503, "no_alerting", "the alerting stage does not run in this process")
    outcome = redeem(
        conn, token, request.app.state.clock.now(), Env(settings, load_directory(conn))
    )
    if outcome in _REFUSED:
        status = 410 if outcome in (TokenCheck.EXPIRED, Answer.TOKEN_USED) else 403
        raise ApiError(status, str(outcome), _REFUSED[outcome])
    return {"outcome": str(outcome)}
