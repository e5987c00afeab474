"""A counting subscriber that proves delivery: QoS 1, PUBACKs sent in bulk, counts per topic.

It runs in its own process, so that it neither slows down nor is slowed down by the
publishers or a baseline running in the caller's process.
"""

from __future__ import annotations

import multiprocessing
import select
import signal
import socket
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from types import TracebackType
from typing import Any, Final

from firewatch.kernel import topics, wire
from firewatch.simulators.errors import DrainError

READ_SIZE: Final = 1 << 20


@dataclass(frozen=True, slots=True)
class DrainResult:
    received: int
    per_topic: dict[str, int]
    duplicates: int
    """Messages the broker flagged as redelivered (DUP)."""
    payloads: tuple[tuple[str, bytes], ...]
    """The first `keep_payloads` messages as (topic, payload)."""

    def per_type(self) -> dict[str, int]:
        counts: Counter[str] = Counter()
        for topic, n in self.per_topic.items():
            parsed = topics.parse(topic)
            counts[parsed.message_type if parsed else topic] += n
        return dict(counts)

    def per_device(self) -> dict[str, int]:
        counts: Counter[str] = Counter()
        for topic, n in self.per_topic.items():
            parsed = topics.parse(topic)
            if parsed is not None:
                counts[parsed.subject_id] += n
        return dict(counts)


def _open(host: str, port: int, client_id: str, filters: Sequence[str]) -> socket.socket:
    where = f"MQTT broker {host}:{port}"
    sock = socket.create_connection((host, port), timeout=10)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 21)
    sock.sendall(
        wire.connect_packet(client_id, 0, mqtt5=False, clean=True)
        + wire.subscribe_packet(1, list(filters), mqtt5=False)
    )
    reply = b""
    while len(reply) < 4:
        chunk = sock.recv(4 - len(reply))
        if not chunk:
            raise DrainError(f"{where} closed the connection of subscriber {client_id}")
        reply += chunk
    problem = wire.connack_problem(reply, mqtt5=False)
    if problem:
        raise DrainError(f"{where} refused subscriber {client_id}: {problem}")
    suback = b""
    expected = 4 + len(filters)
    while len(suback) < expected:
        chunk = sock.recv(expected - len(suback))
        if not chunk:
            raise DrainError(f"{where} closed the connection before SUBACK")
        suback += chunk
    if suback[0] != wire.SUBACK or 0x80 in suback[4:]:
        raise DrainError(f"{where} refused the subscription of {client_id} to {list(filters)}")
    sock.settimeout(None)
    return sock


def _parse(
    buffer: bytes, per_topic: Counter[str], kept: list[tuple[str, bytes]], keep: int
) -> tuple[int, int, bytes, bytes]:
    """Count the whole PUBLISH packets at the front of `buffer`.

    Returns (messages, duplicates, PUBACK bytes to send, leftover bytes).
    """
    parsed, used = wire.parse_packets(buffer, mqtt5=False)
    count = dups = 0
    acks: list[int] = []
    for first, topic, payload, packet_id, qos in parsed:
        if first & 0xF0 != wire.PUBLISH:
            continue
        if qos:
            acks.append(packet_id)
        per_topic[topic] += 1
        count += 1
        if first & 0x08:
            dups += 1
        if len(kept) < keep:
            kept.append((topic, payload))
    return count, dups, wire.pubacks(acks), buffer[used:]


def _pump(
    sock: socket.socket,
    stop: Any,
    counter: Any,
    keep: int,
) -> tuple[str | None, DrainResult]:
    """Receive, count and acknowledge until `stop`; a broken connection ends it with an error."""
    per_topic: Counter[str] = Counter()
    kept: list[tuple[str, bytes]] = []
    received = dups = 0
    pending = b""
    error = None
    try:
        while not stop.is_set():
            readable, _, _ = select.select([sock], [], [], 0.05)
            if not readable:
                continue
            data = sock.recv(READ_SIZE)
            if not data:
                error = "the broker closed the connection"
                break
            n, d, acks, pending = _parse(pending + data, per_topic, kept, keep)
            if acks:
                sock.sendall(acks)
            received += n
            dups += d
            counter.value = received
    except OSError as exc:
        error = str(exc)
    return error, DrainResult(
        received=received,
        per_topic=dict(per_topic),
        duplicates=dups,
        payloads=tuple(kept),
    )


def _drain(
    *,
    host: str,
    port: int,
    client_id: str,
    filters: tuple[str, ...],
    keep: int,
    conn: Connection,
    stop: Any,
    counter: Any,
) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        sock = _open(host, port, client_id, filters)
    except OSError as exc:
        conn.send(f"subscriber {client_id} cannot reach MQTT broker {host}:{port}: {exc}")
        return
    except DrainError as exc:
        conn.send(str(exc))
        return
    conn.send(None)
    with sock:
        error, result = _pump(sock, stop, counter, keep)
    if error:
        error = f"subscriber {client_id} of MQTT broker {host}:{port}: {error}"
    conn.send((error, result))


class CountingDrain:
    """`with CountingDrain(host, port) as drain:` ... `drain.wait_for(n)`; `drain.result`."""

    def __init__(
        self,
        host: str,
        port: int,
        filters: Sequence[str] = (topics.SUBSCRIPTION,),
        *,
        keep_payloads: int = 0,
        client_id: str = "fw-load-drain",
    ) -> None:
        self.host, self.port = host, port
        self.filters = tuple(filters)
        self.keep = keep_payloads
        self.client_id = f"{client_id}-{time.monotonic_ns() % 1_000_000}"
        self._ctx = multiprocessing.get_context("spawn")
        self._stop = self._ctx.Event()
        self._counter = self._ctx.RawValue("q", 0)
        self._result: DrainResult | None = None
        self._pipe: Connection | None = None
        self._child: Any = None

    @property
    def received(self) -> int:
        """Messages received so far (live)."""
        return int(self._counter.value)

    @property
    def result(self) -> DrainResult:
        if self._result is None:
            raise DrainError(f"subscriber {self.client_id} has not finished yet")
        return self._result

    def __enter__(self) -> CountingDrain:
        receiver, sender = self._ctx.Pipe(duplex=False)
        self._child = self._ctx.Process(
            target=_drain,
            kwargs={
                "host": self.host,
                "port": self.port,
                "client_id": self.client_id,
                "filters": self.filters,
                "keep": self.keep,
                "conn": sender,
                "stop": self._stop,
                "counter": self._counter,
            },
            name="load-drain",
            daemon=True,
        )
        self._child.start()
        sender.close()
        self._pipe = receiver
        if not receiver.poll(30):
            self._close()
            raise DrainError(f"subscriber {self.client_id} did not subscribe within 30 s")
        problem = receiver.recv()
        if problem:
            self._close()
            raise DrainError(problem)
        return self

    def wait_for(self, count: int, idle_timeout_s: float = 5.0) -> bool:
        """Wait until `count` messages came, or nothing came for `idle_timeout_s`."""
        last, since = self.received, time.monotonic()
        while (now := self.received) < count:
            if now != last:
                last, since = now, time.monotonic()
            elif time.monotonic() - since > idle_timeout_s:
                return False
            time.sleep(0.02)
        return True

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        if self._pipe is not None and self._pipe.poll(10):
            error, self._result = self._pipe.recv()
            if error and exc is None:
                self._close()
                raise DrainError(error)
        self._close()

    def _close(self) -> None:
        self._stop.set()
        if self._child is not None:
            self._child.join(timeout=5)
            if self._child.is_alive():
                self._child.terminate()
                self._child.join()
        if self._pipe is not None:
            self._pipe.close()
