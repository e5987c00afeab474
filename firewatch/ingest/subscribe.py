"""The MQTT subscription: a persistent session, QoS 1, acknowledged only after commit.

A reader thread owns the socket: it reads large chunks, parses every packet in them
(`kernel.wire`) and puts each message in a bounded buffer; the pipeline takes batches from it
and acknowledges them (`ack`) once they are committed. If the engine dies first, the broker
still holds the messages and redelivers them to the same session.
"""

from __future__ import annotations

import logging
import socket
import ssl
import threading
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType

from firewatch.ingest.errors import BrokerConnectionError
from firewatch.kernel import topics, wire
from firewatch.kernel.broker import BrokerAddress
from firewatch.kernel.clock import Clock

log = logging.getLogger("firewatch.ingest")

_READ_CHUNK = 1 << 18
_MAX_RECEIVE = 65535  # MQTT 5 Receive Maximum: unacknowledged messages the broker may send us
_KEEPALIVE_S = 30


@dataclass(frozen=True, slots=True)
class Inbound:
    """One message as the broker handed it over, not yet decoded."""

    topic: str
    payload: bytes
    received_at: datetime
    mid: int
    qos: int
    session: int
    """Which connection brought it: an acknowledgement is only valid on that same connection."""


class _Buffer:
    """A bounded FIFO. When it is full the reader stops reading the socket, so the broker keeps
    the messages instead of our memory growing."""

    def __init__(self, capacity: int) -> None:
        self._items: deque[Inbound] = deque()
        self._capacity = capacity
        self._cond = threading.Condition()
        self._closed = False

    def put_all(self, items: list[Inbound], while_full: object) -> None:
        with self._cond:
            while len(self._items) >= self._capacity and not self._closed:
                self._cond.wait(1.0)
                if callable(while_full):
                    while_full()
            was_empty = not self._items
            self._items.extend(items)
            if was_empty:
                self._cond.notify_all()

    def take(self, most: int, timeout: float) -> list[Inbound]:
        with self._cond:
            if not self._items and timeout > 0:
                self._cond.wait(timeout)
            count = min(most, len(self._items))
            taken = [self._items.popleft() for _ in range(count)]
            if taken:
                self._cond.notify_all()
            return taken

    def __len__(self) -> int:
        return len(self._items)

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()


class Subscriber:
    """`with Subscriber(...) as sub:` connects, subscribes to `fw/v1/#`, and feeds `take()`."""

    def __init__(
        self,
        broker: BrokerAddress,
        client_id: str,
        clock: Clock,
        *,
        session_expiry_s: int,
        capacity: int,
        connect_timeout_s: float = 10.0,
        announce: str | None = None,
    ) -> None:
        """`announce`: a topic on which the engine says `online` (retained) once subscribed,
        and the broker says `offline` for it (its Last Will) if the engine vanishes."""
        self._announce = announce
        self._broker = broker
        self._client_id = client_id
        self._clock = clock
        self._expiry = session_expiry_s
        self._receive_maximum = min(capacity, _MAX_RECEIVE)
        self._timeout = connect_timeout_s
        self._buffer = _Buffer(capacity)
        self._sock: socket.socket | None = None
        self._send_lock = threading.Lock()
        self._last_sent = 0.0
        self._session = 0
        self._stopping = threading.Event()
        self._reader: threading.Thread | None = None

    @property
    def endpoint(self) -> str:
        return f"{self._broker.host}:{self._broker.port}"

    @property
    def connected(self) -> bool:
        return self._sock is not None

    @property
    def queued(self) -> int:
        return len(self._buffer)

    def __enter__(self) -> Subscriber:
        leftover = self._connect()
        self._reader = threading.Thread(
            target=self._read_forever, args=(leftover,), name="mqtt-reader", daemon=True
        )
        self._reader.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stopping.set()
        self._buffer.close()
        if self._announce:
            # A clean stop discards the Last Will, so say it ourselves.
            self._send(wire.publish_packet(self._announce, b"offline", 3, mqtt5=self._broker.mqtt5,
                                           retain=True))  # fmt: skip
        self._send(wire.DISCONNECT_PACKET)
        self._close()
        if self._reader is not None:
            self._reader.join(10)

    def take(self, most: int, timeout: float) -> list[Inbound]:
        """Up to `most` messages; waits up to `timeout` seconds when none is there."""
        return self._buffer.take(most, timeout)

    def ack(self, items: Sequence[Inbound]) -> int:
        """Acknowledge committed messages; those of an earlier connection are left to the
        broker's redelivery (their packet ids may already name other messages)."""
        current = self._session
        ids = [i.mid for i in items if i.qos and i.session == current]
        if ids:
            self._send(wire.pubacks(ids))
        return len(ids)

    def _send(self, data: bytes) -> None:
        with self._send_lock:
            sock = self._sock
            if sock is None:
                return
            try:
                sock.sendall(data)
                self._last_sent = time.monotonic()
            except OSError as exc:
                # The reader notices the broken connection too and reconnects; what was not
                # acknowledged is redelivered on the new one.
                log.debug("send to %s failed: %s", self.endpoint, exc)

    def _close(self) -> None:
        with self._send_lock:
            sock, self._sock = self._sock, None
        if sock is not None:
            try:
                sock.close()
            except OSError:
                log.debug("closing the broker socket failed", exc_info=True)

    def _open_socket(self) -> socket.socket:
        try:
            sock = socket.create_connection(
                (self._broker.host, self._broker.port), timeout=self._timeout
            )
        except OSError as exc:
            raise BrokerConnectionError(
                f"cannot connect to the MQTT broker at {self.endpoint}: {exc}"
            ) from exc
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self._broker.tls:
            sock = ssl.create_default_context().wrap_socket(sock, server_hostname=self._broker.host)
        return sock

    def _connect(self) -> bytes:
        """Open the session; returns bytes that came after the CONNACK (queued messages)."""
        sock = self._open_socket()
        try:
            data, session_present = self._handshake(sock)
        except (OSError, BrokerConnectionError):
            sock.close()
            raise
        sock.settimeout(_KEEPALIVE_S / 3)
        self._session += 1
        with self._send_lock:
            self._sock = sock
            self._last_sent = time.monotonic()
        log.info(
            "subscribed to %s at %s (connection %d, session present: %s)",
            topics.SUBSCRIPTION, self.endpoint, self._session, session_present,
        )  # fmt: skip
        return data[wire.packet_end(data) :]

    def _handshake(self, sock: socket.socket) -> tuple[bytes, bool]:
        """CONNECT, wait for the CONNACK, SUBSCRIBE; the bytes read so far and whether the
        broker still had our session."""
        mqtt5 = self._broker.mqtt5
        sock.sendall(
            wire.connect_packet(
                self._client_id, _KEEPALIVE_S, mqtt5=mqtt5,
                session_expiry_s=self._expiry, receive_maximum=self._receive_maximum,
                username=self._broker.username, password=self._broker.password,
                will=(self._announce, b"offline") if self._announce else None,
            )
        )  # fmt: skip
        data = b""
        packets: list[wire.Packet] = []
        while not packets:
            chunk = sock.recv(_READ_CHUNK)
            if not chunk:
                raise BrokerConnectionError(
                    f"the MQTT broker at {self.endpoint} closed the connection"
                )
            data += chunk
            packets, _ = wire.parse_packets(data, mqtt5=mqtt5)
        first, _, body, _, _ = packets[0]
        refusal = wire.connack_refusal(body, mqtt5=mqtt5) if first == wire.CONNACK else "no CONNACK"
        if refusal:
            raise BrokerConnectionError(
                f"the MQTT broker at {self.endpoint} refused the session: {refusal}"
            )
        sock.sendall(wire.subscribe_packet(1, topics.SUBSCRIPTION, mqtt5=mqtt5))
        if self._announce:
            sock.sendall(
                wire.publish_packet(self._announce, b"online", 2, mqtt5=mqtt5, retain=True)
            )
        return data, bool(body[0] & 1)

    def _ping_if_due(self) -> None:
        if time.monotonic() - self._last_sent > _KEEPALIVE_S / 2:
            self._send(wire.PINGREQ)

    def _read_forever(self, pending: bytes = b"") -> None:
        delay = 1.0
        while not self._stopping.is_set():
            if self._sock is None:
                try:
                    pending = self._connect()
                    delay = 1.0
                except BrokerConnectionError as exc:
                    log.warning("%s; retrying in %.0f s", exc, delay)
                    self._stopping.wait(delay)
                    delay = min(delay * 2, 30.0)
                    continue
            pending = self._pump(pending)

    def _pump(self, pending: bytes) -> bytes:
        """Handle what is buffered, then read once; returns the incomplete tail."""
        mqtt5 = self._broker.mqtt5
        packets, used = wire.parse_packets(pending, mqtt5=mqtt5)
        if packets:
            self._deliver(packets)
        pending = pending[used:]
        sock = self._sock
        if sock is None:
            return b""
        try:
            chunk = sock.recv(_READ_CHUNK)
        except TimeoutError:
            self._ping_if_due()
            return pending
        except OSError as exc:
            chunk = b""
            if not self._stopping.is_set():
                log.warning("MQTT connection to %s broke: %s; reconnecting", self.endpoint, exc)
        if not chunk:
            if not self._stopping.is_set():
                log.warning("MQTT connection to %s lost; reconnecting", self.endpoint)
            self._close()
            return b""
        self._ping_if_due()
        return pending + chunk

    def _deliver(self, packets: list[wire.Packet]) -> None:
        received_at = self._clock.now()  # one clock read per socket read, not per message
        session = self._session
        messages = []
        for first, topic, body, packet_id, qos in packets:
            kind = first & 0xF0
            if kind == wire.PUBLISH:
                messages.append(Inbound(topic, body, received_at, packet_id, qos, session))
            elif kind == wire.SUBACK and not wire.suback_granted(body, mqtt5=self._broker.mqtt5):
                log.error(
                    "the MQTT broker at %s refused our subscription to %s",
                    self.endpoint,
                    topics.SUBSCRIPTION,
                )
            elif kind == wire.DISCONNECT:
                log.warning("the MQTT broker at %s disconnected us (%s)", self.endpoint, body.hex())
        if messages:
            self._buffer.put_all(messages, self._ping_if_due)
