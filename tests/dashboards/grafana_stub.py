"""A real HTTP server on a free loopback port that answers the few Grafana API calls `publish`
makes, keeps what it is given, and records every request (no Grafana is installable here)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Call:
    method: str
    path: str
    authorization: str | None
    body: Any


@dataclass
class GrafanaStub:
    url: str = ""
    calls: list[Call] = field(default_factory=list)
    folders: dict[str, dict[str, Any]] = field(default_factory=dict)
    datasources: dict[str, dict[str, Any]] = field(default_factory=dict)
    dashboards: dict[str, dict[str, Any]] = field(default_factory=dict)
    refuse_with: int | None = None  # answer every call with this status

    def answer(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        if self.refuse_with is not None:
            return self.refuse_with, {"message": "invalid API key"}
        parts = path.removeprefix("/api/").split("/")
        if parts[0] == "folders":
            return self._folders(method, parts, body)
        if parts[0] == "datasources":
            return self._datasources(method, parts, body)
        if parts[0] == "dashboards":
            return self._dashboards(method, parts, body)
        return 404, {"message": "not found"}

    def _folders(self, method: str, parts: list[str], body: Any) -> tuple[int, Any]:
        if method == "POST":
            self.folders[body["uid"]] = {"uid": body["uid"], "title": body["title"]}
            return 200, self.folders[body["uid"]]
        uid = parts[1]
        if uid not in self.folders:
            return 404, {"message": "folder not found"}
        if method == "PUT":
            self.folders[uid]["title"] = body["title"]
        return 200, self.folders[uid]

    def _datasources(self, method: str, parts: list[str], body: Any) -> tuple[int, Any]:
        if method == "POST":
            self.datasources[body["uid"]] = dict(body)
            return 200, {"message": "Datasource added", "id": 1}
        uid = parts[2]
        if uid not in self.datasources:
            return 404, {"message": "Data source not found"}
        if method == "PUT":
            kept = self.datasources[uid].get("secureJsonData")
            self.datasources[uid] = {"secureJsonData": kept, **body}
            return 200, {"message": "Datasource updated"}
        stored = dict(self.datasources[uid])
        secure = stored.pop("secureJsonData", None) or {}
        return 200, {**stored, "id": 1, "secureJsonFields": {k: True for k in secure}}

    def _dashboards(self, method: str, parts: list[str], body: Any) -> tuple[int, Any]:
        if method == "POST":
            uid = body["dashboard"]["uid"]
            version = self.dashboards.get(uid, {}).get("dashboard", {}).get("version", 0) + 1
            stored = {**body["dashboard"], "id": 7, "version": version}
            self.dashboards[uid] = {"dashboard": stored, "meta": {"folderUid": body["folderUid"]}}
            return 200, {"status": "success", "uid": uid, "version": version}
        uid = parts[2]
        if uid not in self.dashboards:
            return 404, {"message": "Dashboard not found"}
        return 200, self.dashboards[uid]


@contextmanager
def grafana_stub() -> Iterator[GrafanaStub]:
    stub = GrafanaStub()

    class Handler(BaseHTTPRequestHandler):
        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length)) if length else None
            stub.calls.append(Call(self.command, self.path, self.headers.get("Authorization"),
                                   body))  # fmt: skip
            status, answer = stub.answer(self.command, self.path, body)
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = _handle  # noqa: N815

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    stub.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, name="grafana-stub", daemon=True)
    thread.start()
    try:
        yield stub
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
