"""Publish a run's messages to an MQTT broker on time, with paho-mqtt, as the devices would.

Most messages go through one shared connection. A device whose Last Will the run uses gets a
connection of its own, opened with that will set (STYLE.md section 9: the will is set before
connecting); when its traffic says the device died, the player cuts that connection without a
DISCONNECT, so the broker itself publishes `offline` — the path real devices take. Every
publication is waited for (its PUBACK at QoS 1) before `play` returns.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from firewatch.kernel import topics
from firewatch.kernel.broker import BrokerAddress
from firewatch.simulators import curves
from firewatch.simulators.clock import SimClock
from firewatch.simulators.errors import PlayError
from firewatch.simulators.records import Message

Progress = Callable[[int, int, datetime], None]
PRUNE_AT: Final = 2000  # forget acknowledged publications beyond this many, to bound memory


@dataclass(frozen=True, slots=True)
class PlayReport:
    published: int  # messages the broker acknowledged from us
    wills: int  # Last Wills the broker sent on our dropped connections' behalf


class _Connection:
    """One paho client: connected on creation, publications tracked until acknowledged."""

    def __init__(
        self, broker: BrokerAddress, client_id: str, timeout_s: float,
        will: tuple[str, bytes, int, bool] | None = None,
    ) -> None:  # fmt: skip
        self.name = f"{client_id} at {broker.host}:{broker.port}"
        self._timeout = timeout_s
        self._pending: list[mqtt.MQTTMessageInfo] = []
        self.acknowledged = 0
        self._client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv311
        )
        if broker.username is not None:
            self._client.username_pw_set(broker.username, broker.password)
        if broker.tls:
            self._client.tls_set()
        if will is not None:
            topic, payload, qos, retain = will
            self._client.will_set(topic, payload, qos=qos, retain=retain)
        self._client.max_inflight_messages_set(100)
        connected = threading.Event()
        answer: list[Any] = []

        def on_connect(_c: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
            answer.append(reason)
            connected.set()

        self._client.on_connect = on_connect
        try:
            self._client.connect(broker.host, broker.port, keepalive=curves.KEEPALIVE_S)
        except OSError as exc:
            raise PlayError(f"cannot reach the MQTT broker for {self.name}: {exc}") from exc
        self._client.loop_start()
        if not connected.wait(timeout_s):
            self.close()
            raise PlayError(f"no CONNACK within {timeout_s:g} s for {self.name}")
        if answer[0].is_failure:
            self.close()
            raise PlayError(f"the broker refused {self.name}: {answer[0]}")

    def publish(self, message: Message) -> None:
        info = self._client.publish(
            message.topic, message.payload, qos=message.qos, retain=message.retain
        )
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            raise PlayError(f"publish to {message.topic} failed on {self.name}: {info.rc}")
        self._pending.append(info)
        if len(self._pending) > PRUNE_AT:
            done = [i for i in self._pending if i.is_published()]
            self.acknowledged += len(done)
            self._pending = [i for i in self._pending if not i.is_published()]

    def wait(self) -> None:
        for info in self._pending:
            info.wait_for_publish(self._timeout)
            if not info.is_published():
                raise PlayError(f"no PUBACK within {self._timeout:g} s on {self.name}")
        self.acknowledged += len(self._pending)
        self._pending = []

    def drop(self) -> None:
        """Lose the connection like a dead device: no DISCONNECT, so the broker sends the will."""
        self.wait()
        self._client.loop_stop()
        sock = self._client.socket()
        if isinstance(sock, socket.socket):
            with contextlib.suppress(OSError):  # already gone: the broker noticed on its own
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()


class Player:
    def __init__(
        self,
        broker: BrokerAddress,
        clock: SimClock,
        *,
        client_id: str = "fw-sim",
        timeout_s: float = 30.0,
        progress: Progress | None = None,
    ) -> None:
        self._broker = broker
        self._clock = clock
        self._client_id = client_id
        self._timeout = timeout_s
        self._progress = progress

    def _connect_device(self, kind: str, device_id: str) -> _Connection:
        """A device's own connection, its Last Will set before it connects."""
        will = (topics.availability(kind, device_id), b"offline", 1, True)
        client_id = f"{self._client_id}-{device_id}"[:64]
        return _Connection(self._broker, client_id, self._timeout, will)

    def play(self, messages: Sequence[Message]) -> PlayReport:
        """Publish each message when the clock reaches its time; wait for every PUBACK."""
        mortal = {_device(m.topic) for m in messages if m.will}
        shared = _Connection(self._broker, self._client_id, self._timeout)
        own: dict[tuple[str, str], _Connection] = {}
        done: list[_Connection] = []
        wills = 0
        try:
            for count, message in enumerate(messages, start=1):
                self._clock.sleep_until(message.at)
                device = _device(message.topic)
                if device is not None and device in mortal:
                    conn = own.get(device)
                    if message.will:
                        if conn is not None:
                            conn.drop()
                            done.append(own.pop(device))
                        wills += 1
                    else:
                        if conn is None:
                            conn = own[device] = self._connect_device(*device)
                        conn.publish(message)
                else:
                    shared.publish(message)
                if self._progress is not None:
                    self._progress(count, len(messages), message.at)
            for conn in [shared, *own.values()]:
                conn.wait()
        finally:
            for conn in [shared, *own.values()]:
                conn.close()
        published = sum(c.acknowledged for c in [shared, *own.values(), *done])
        return PlayReport(published=published, wills=wills)


def _device(topic: str) -> tuple[str, str] | None:
    """(kind, device id) of a device topic; None for venue scans."""
    parts = topics.parse(topic)
    return None if parts is None or parts.kind == topics.VENUE else (parts.kind, parts.subject_id)
