"""The API's exceptions, and one error shape for every refused request:
`{"error": {"code": ..., "message": ...}}`.

    ApiError         an expected refusal of one request: status, stable code, message
    ApiServerError   the HTTP API could not start (names the address)

Two roots, not one: an `ApiError` is an answer (the handler below turns it into a response)
while an `ApiServerError` is a fault at start-up; nothing catches both.
"""

from __future__ import annotations

import psycopg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from psycopg_pool import PoolTimeout
from starlette.exceptions import HTTPException


class ApiError(Exception):
    """An expected refusal: its status, a stable code and a message naming what was wrong."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class ApiServerError(Exception):
    """The HTTP API could not start listening; the message names the address."""


def error_body(code: str, message: str) -> dict[str, dict[str, str]]:
    return {"error": {"code": code, "message": message}}


def install(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(_request: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(error_body(exc.code, exc.message), status_code=exc.status)

    @app.exception_handler(HTTPException)
    async def http_error(_request: Request, exc: HTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return JSONResponse(error_body(code, str(exc.detail)), status_code=exc.status_code)

    @app.exception_handler(psycopg.errors.DataError)
    async def bad_value(_request: Request, exc: psycopg.errors.DataError) -> JSONResponse:
        # A value the database cannot hold (a NUL byte, an impossible date) is the caller's
        # mistake, not ours.
        message = exc.diag.message_primary or "a value in the request cannot be stored or compared"
        return JSONResponse(error_body("invalid_request", message), status_code=400)

    @app.exception_handler(psycopg.errors.QueryCanceled)
    async def too_slow(_request: Request, _exc: psycopg.errors.QueryCanceled) -> JSONResponse:
        message = "the request took too long and was cancelled: narrow it (since, limit) or retry"
        return JSONResponse(error_body("timeout", message), status_code=503)

    @app.exception_handler(PoolTimeout)
    async def busy(_request: Request, _exc: PoolTimeout) -> JSONResponse:
        message = "the API is busy: every database connection is in use; retry shortly"
        return JSONResponse(error_body("busy", message), status_code=503)

    @app.exception_handler(RequestValidationError)
    async def invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        return JSONResponse(error_body("invalid_request", problems), status_code=422)
