"""Runs the HTTP application in a background thread, for as long as a `with` block lasts."""

from __future__ import annotations

import logging
import threading
import time
from types import TracebackType

import uvicorn
from fastapi import FastAPI

from firewatch.api.errors import ApiServerError

log = logging.getLogger("firewatch.api")


MAX_CONNECTIONS = 200


class ApiServer:
    def __init__(self, app: FastAPI, bind: str) -> None:
        host, _, port = bind.rpartition(":")
        self.bind = bind
        self._server = uvicorn.Server(
            uvicorn.Config(
                app,
                host=host,
                port=int(port),
                log_level="warning",
                access_log=False,
                # Idle keep-alive connections are closed, and past this many open connections
                # new requests get 503 rather than queueing without bound.
                timeout_keep_alive=5,
                limit_concurrency=MAX_CONNECTIONS,
            )
        )
        self._thread = threading.Thread(target=self._server.run, name="api", daemon=True)

    def __enter__(self) -> ApiServer:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise ApiServerError(f"the HTTP API could not listen on {self.bind}")
            time.sleep(0.02)
        log.info("HTTP API listening on http://%s", self.bind)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._server.should_exit = True
        self._thread.join(10)
