"""The MQTT subscription: a persistent session, QoS 1, acknowledged only after commit.

paho-mqtt runs its network loop in its own thread and hands each message to a bounded buffer;
the pipeline takes batches from it and acknowledges them (`ack`) once they are committed. If the
engine dies first, the broker still holds the messages and redelivers them to the same session.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions

from firewatch import topics
from firewatch.clock import Clock
from firewatch.services import BrokerAddress

log = logging.getLogger("firewatch.ingest")

_READ_CHUNK = 1 << 16
_MAX_RECEIVE = 65535  # MQTT 5 Receive Maximum: unacknowledged messages the broker may send us


class BrokerError(Exception):
    """The broker cannot be reached or refused us; the message names the broker."""


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


class _BufferedClient(mqtt.Client):
    """paho reads each packet with several tiny recv() calls; one large read serves many.

    This leans on paho's private `_sock_recv` / `_packet_read` / `_sock_close`, so paho-mqtt is
    pinned exactly, and the ingest tests exercise this path against a real broker.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._rbuf = b""
        self._rpos = 0

    def _sock_recv(self, bufsize: int) -> bytes:
        if self._rpos >= len(self._rbuf):
            data = super()._sock_recv(_READ_CHUNK)
            if not data:
                return data
            self._rbuf, self._rpos = data, 0
        end = min(self._rpos + bufsize, len(self._rbuf))
        chunk = self._rbuf[self._rpos : end]
        self._rpos = end
        return chunk

    def loop_read(self, max_packets: int = 1) -> MQTTErrorCode:
        # paho reads one packet per select(); bytes already buffered here would wake no select,
        # so keep reading until both the buffer and the socket are empty.
        if self._sock is None:
            return MQTTErrorCode.MQTT_ERR_NO_CONN
        for _ in range(4096):
            rc = self._packet_read()
            if rc == MQTTErrorCode.MQTT_ERR_AGAIN:
                return MQTTErrorCode.MQTT_ERR_SUCCESS
            if rc > 0:
                return self._loop_rc_handle(rc)
            if self._sock is None:
                return MQTTErrorCode.MQTT_ERR_NO_CONN
        if self._rpos < len(self._rbuf) and self._sockpairW is not None:
            self._sockpairW.send(b"0")  # more is buffered: make the next select() return at once
        return MQTTErrorCode.MQTT_ERR_SUCCESS

    def _sock_close(self) -> None:
        self._rbuf, self._rpos = b"", 0
        super()._sock_close()


class _Buffer:
    """A bounded FIFO: a full buffer blocks paho's network thread, so we stop reading the socket
    and the broker keeps the messages, instead of our memory growing."""

    def __init__(self, capacity: int) -> None:
        self._items: deque[Inbound] = deque()
        self._capacity = capacity
        self._cond = threading.Condition()
        self._closed = False

    def put(self, item: Inbound) -> None:
        with self._cond:
            while len(self._items) >= self._capacity and not self._closed:
                self._cond.wait(0.5)
            self._items.append(item)
            if len(self._items) == 1:
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
    ) -> None:
        self._broker = broker
        self._clock = clock
        self._session = 0
        self._connected = threading.Event()
        self._refused: str | None = None
        self._buffer = _Buffer(capacity)
        self._timeout = connect_timeout_s
        self._client = _BufferedClient(
            CallbackAPIVersion.VERSION2,
            client_id=client_id,
            protocol=mqtt.MQTTv5 if broker.mqtt5 else mqtt.MQTTv311,
            manual_ack=True,
            # MQTT 3.1.1 has no session expiry: a persistent session is "clean session off".
            clean_session=None if broker.mqtt5 else False,
        )
        if broker.username:
            self._client.username_pw_set(broker.username, broker.password)
        if broker.tls:
            self._client.tls_set()
        self._connect_properties: Properties | None = None
        if broker.mqtt5:
            self._connect_properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
            self._connect_properties.SessionExpiryInterval = session_expiry_s
            self._connect_properties.ReceiveMaximum = min(capacity, _MAX_RECEIVE)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_message = self._on_message
        self._client.reconnect_delay_set(1, 30)

    @property
    def endpoint(self) -> str:
        return f"{self._broker.host}:{self._broker.port}"

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    @property
    def queued(self) -> int:
        return len(self._buffer)

    def __enter__(self) -> Subscriber:
        try:
            if self._broker.mqtt5:
                self._client.connect(
                    self._broker.host,
                    self._broker.port,
                    keepalive=30,
                    clean_start=False,
                    properties=self._connect_properties,
                )
            else:
                self._client.connect(self._broker.host, self._broker.port, keepalive=30)
        except OSError as exc:
            raise BrokerError(
                f"cannot connect to the MQTT broker at {self.endpoint}: {exc}"
            ) from exc
        self._client.loop_start()
        if not self._connected.wait(self._timeout) or self._refused:
            self._client.loop_stop()
            why = self._refused or f"no answer within {self._timeout:.0f} s"
            raise BrokerError(f"the MQTT broker at {self.endpoint} refused the session: {why}")
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._buffer.close()
        self._client.disconnect()
        self._client.loop_stop()

    def take(self, most: int, timeout: float) -> list[Inbound]:
        """Up to `most` messages; waits up to `timeout` seconds when none is there."""
        return self._buffer.take(most, timeout)

    def ack(self, items: Sequence[Inbound]) -> int:
        """Acknowledge committed messages; those of an earlier connection are left to the
        broker's redelivery (their mids may already name other messages). Returns how many."""
        current = self._session
        sent = 0
        for item in items:
            if item.qos > 0 and item.session == current:
                self._client.ack(item.mid, item.qos)
                sent += 1
        return sent

    def _on_connect(
        self, client: mqtt.Client, _u: object, _f: object, reason: Any, _p: object
    ) -> None:
        if reason.is_failure:
            self._refused = str(reason)
            self._connected.set()
            log.error("MQTT broker at %s refused the connection: %s", self.endpoint, reason)
            return
        self._session += 1
        # no_local: our own publishes (commands, the engine's availability) do not come back.
        if self._broker.mqtt5:
            client.subscribe(topics.SUBSCRIPTION, options=SubscribeOptions(qos=1, noLocal=True))
        else:
            client.subscribe(topics.SUBSCRIPTION, qos=1)
        log.info(
            "subscribed to %s at %s (connection %d)",
            topics.SUBSCRIPTION,
            self.endpoint,
            self._session,
        )
        self._connected.set()

    def _on_disconnect(
        self, _c: mqtt.Client, _u: object, _f: object, reason: Any, _p: object
    ) -> None:
        self._connected.clear()
        log.warning("MQTT connection to %s lost (%s); reconnecting", self.endpoint, reason)

    def _on_message(self, _c: mqtt.Client, _u: object, message: mqtt.MQTTMessage) -> None:
        self._buffer.put(
            Inbound(
                message.topic,
                bytes(message.payload),
                self._clock.now(),
                message.mid,
                message.qos,
                self._session,
            )
        )
