"""The HTTP application: `/healthz`, `/metrics`, and the `/api/v1` resources."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from psycopg_pool import ConnectionPool

from firewatch.alerting import AlertSettings
from firewatch.api import errors
from firewatch.api.deps import principal
from firewatch.api.middleware import AuditLog, BodyLimit
from firewatch.api.routes import (
    ack,
    alerts,
    cases,
    quarantined,
    registry,
    rejected,
    reports,
    risk,
    silences,
)
from firewatch.auth.users import Principal
from firewatch.config import Config
from firewatch.kernel.clock import Clock, SystemClock

HealthCheck = Callable[[], Mapping[str, str]]
"""Each stage's state by name: "ok", or a short sentence saying what is wrong."""

MAX_BODY_BYTES = 1 << 20


def create_app(
    health: HealthCheck,
    pool: ConnectionPool | None = None,
    admin_token: str | None = None,
    config: Config | None = None,
    alert_settings: AlertSettings | None = None,
    *,
    clock: Clock | None = None,
) -> FastAPI:
    app = FastAPI(
        title="firewatch",
        version="1",
        openapi_url="/api/v1/openapi.json",
        docs_url="/api/v1/docs",
        redoc_url=None,
    )
    app.state.pool = pool
    app.state.admin_token = admin_token
    app.state.config = config or Config()
    app.state.alert_settings = alert_settings
    app.state.clock = clock or SystemClock()  # the engine's: scaled in the demo
    errors.install(app)

    @app.get("/healthz")
    def healthz() -> Response:
        stages = dict(health())
        healthy = all(state == "ok" for state in stages.values())
        return JSONResponse(
            {"status": "ok" if healthy else "degraded", "stages": stages},
            status_code=200 if healthy else 503,
        )

    @app.get("/metrics")
    def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    @app.get("/api/v1/me", tags=["auth"])
    def me(who: Annotated[Principal, Depends(principal)]) -> dict[str, Any]:
        return {
            "user_id": who.user_id,
            "role": who.role.value,
            "communities": list(who.communities),
            "station_id": who.station_id,
            "department": who.department,
        }

    # Specific resources before the registry's `/{kind}` routes, which would shadow them.
    app.include_router(rejected.router)
    app.include_router(quarantined.router)
    app.include_router(ack.router)
    app.include_router(cases.router)
    app.include_router(alerts.router)
    app.include_router(silences.router)
    app.include_router(risk.router)
    app.include_router(reports.router)
    app.include_router(registry.router)
    # Outermost first: the size limit refuses before anything is read or recorded.
    app.add_middleware(AuditLog, pool=pool)
    app.add_middleware(BodyLimit, limit=MAX_BODY_BYTES)
    return app
