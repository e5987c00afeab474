"""A real HTTP receiver for notifications, on a loopback port, answering by a script."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from firewatch.alerting import AlertSettings


@dataclass
class Receiver:
    """A notification receiver on a loopback port: answers by a script, remembers every id.

    `script(n)` gives the behaviour of the n-th POST (from 1): an HTTP status, or a number of
    seconds to stall before answering 200 (longer than the sender's time-out: a time-out)."""

    script: Callable[[int], int | float] = lambda _n: 200
    posts: int = 0
    bodies: dict[str, list[bytes]] = field(default_factory=dict)  # id → every body received
    accepted: dict[str, int] = field(default_factory=dict)  # id → how many 2xx answers
    times: dict[str, float] = field(default_factory=dict)  # id → monotonic time first received
    lock: threading.Lock = field(default_factory=threading.Lock)
    port: int = 0

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}/{path}"

    def distinct(self) -> set[str]:
        with self.lock:
            return set(self.bodies)

    def delivered(self) -> set[str]:
        with self.lock:
            return {k for k, v in self.accepted.items() if v}


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            nid = json.loads(body)["id"]
            with receiver.lock:
                receiver.posts += 1
                n = receiver.posts
                receiver.bodies.setdefault(nid, []).append(body)
                receiver.times.setdefault(nid, time.monotonic())
            action = receiver.script(n)
            if isinstance(action, float):
                time.sleep(action)
                action = 200
            if 200 <= action < 300:
                with receiver.lock:
                    receiver.accepted[nid] = receiver.accepted.get(nid, 0) + 1
            try:
                self.send_response(action)
                self.send_header("content-length", "0")
                self.end_headers()
            except OSError:
                pass  # the sender gave up waiting

        def log_message(self, *_args: object) -> None:
            pass

    return Handler


@contextmanager
def receiver(script: Callable[[int], int | float] = lambda _n: 200) -> Iterator[Receiver]:
    r = Receiver(script)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(r))
    server.daemon_threads = True
    r.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield r
    finally:
        server.shutdown()
        server.server_close()


def with_receiver(settings: AlertSettings, r: Receiver) -> AlertSettings:
    return replace(settings, delivery=replace(
        settings.delivery, sms_url=r.url("sms"), push_url=r.url("push"), webhook_url=r.url("hook"),
    ))  # fmt: skip


def wait_for(check: Callable[[], bool], timeout: float = 20.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.02)
    raise AssertionError(f"{what} not met in {timeout} s")
