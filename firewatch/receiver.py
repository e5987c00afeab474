"""A local notification receiver (CONTRACT.md section 3) for the demo: it answers every POST
with 204, prints each notification once (a repeated `id` is the same notification), keeps them
for the demo's summary, and hands each new one to its listeners (the simulated station members
who answer the call). Phone numbers are masked in what it prints."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

from firewatch.logs import redact

log = logging.getLogger("firewatch.demo")

Printer = Callable[[str], None]
Listener = Callable[[Mapping[str, Any]], None]


class NotificationReceiver:
    def __init__(self, printer: Printer, host: str = "127.0.0.1", port: int = 0,
                 listeners: Sequence[Listener] = ()) -> None:  # fmt: skip
        self.received: dict[str, dict[str, Any]] = {}
        self.posts = 0
        self._lock = threading.Lock()
        self._listeners = tuple(listeners)
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(min(length, 1 << 20))
                try:
                    note = json.loads(body)
                except ValueError:
                    self.send_response(400)
                    self.end_headers()
                    return
                receiver.take(self.path, note, printer)
                self.send_response(204)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return  # the demo prints notifications, not access logs

        self._server = ThreadingHTTPServer((host, port), Handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="receiver", daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def take(self, path: str, note: dict[str, Any], printer: Printer) -> None:
        with self._lock:
            self.posts += 1
            key = str(note.get("id"))
            if key in self.received:
                return
            self.received[key] = note
        to = ", ".join(note.get("to") or [])
        head = f"[{note.get('channel', path.strip('/'))} {note.get('level', '?')}] to {to}"
        printer(redact(f"{head}: {note.get('title', '')} — {note.get('text', '')}"))
        for listener in self._listeners:
            try:
                listener(note)
            except Exception:  # a listener's bug must not turn the receiver's answer into a 500
                log.exception("a listener of the notification receiver failed")

    def __enter__(self) -> NotificationReceiver:
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
