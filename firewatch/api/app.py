"""The HTTP application: `/healthz` and `/metrics` now; `/api/v1` grows with the stages."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from fastapi import FastAPI, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

HealthCheck = Callable[[], Mapping[str, str]]
"""Each stage's state by name: "ok", or a short sentence saying what is wrong."""


def create_app(health: HealthCheck) -> FastAPI:
    app = FastAPI(title="firewatch", version="1", openapi_url="/api/v1/openapi.json")

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

    return app
