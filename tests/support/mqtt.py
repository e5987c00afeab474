"""A blocking paho-mqtt client for tests: connect, subscribe, publish and wait for outcomes.

Every call waits for the broker's answer (CONNACK, SUBACK, PUBACK) and returns or checks its
reason code, so a test states what the broker decided instead of sleeping and hoping.
"""

from __future__ import annotations

import queue
import threading
from types import TracebackType
from typing import Any, TypeVar

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

MQTTv311 = MQTTProtocolVersion.MQTTv311
MQTTv5 = MQTTProtocolVersion.MQTTv5
_TIMEOUT_S = 5.0
_T = TypeVar("_T")


class MqttTestClient:
    """One connection. `with MqttTestClient(host, port, client_id="t1") as client: ...`"""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        client_id: str,
        username: str | None = None,
        password: str | None = None,
        protocol: MQTTProtocolVersion = MQTTv5,
    ) -> None:
        self.host, self.port = host, port
        self.messages: queue.Queue[mqtt.MQTTMessage] = queue.Queue()
        self._connack: queue.Queue[ReasonCode] = queue.Queue()
        self._acks = threading.Condition()
        self._pubacks: dict[int, ReasonCode] = {}
        self._subacks: dict[int, list[ReasonCode]] = {}
        # No automatic reconnect: a test must see the broker drop a connection, not paper over it.
        self._client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id,
            protocol=protocol,
            reconnect_on_failure=False,
        )
        if username is not None:
            self._client.username_pw_set(username, password)
        self._client.on_connect = self._on_connect
        self._client.on_message = self._on_message
        self._client.on_publish = self._on_publish
        self._client.on_subscribe = self._on_subscribe

    # -- paho callbacks (its network thread) --------------------------------------------------

    def _on_connect(
        self, _c: mqtt.Client, _u: Any, _f: Any, reason: ReasonCode, _p: Properties | None
    ) -> None:
        self._connack.put(reason)

    def _on_message(self, _c: mqtt.Client, _u: Any, message: mqtt.MQTTMessage) -> None:
        self.messages.put(message)

    def _on_publish(
        self, _c: mqtt.Client, _u: Any, mid: int, reason: ReasonCode, _p: Properties | None
    ) -> None:
        with self._acks:
            self._pubacks[mid] = reason
            self._acks.notify_all()

    def _on_subscribe(
        self, _c: mqtt.Client, _u: Any, mid: int, reasons: list[ReasonCode], _p: Properties | None
    ) -> None:
        with self._acks:
            self._subacks[mid] = reasons
            self._acks.notify_all()

    # -- what tests call --------------------------------------------------------------------

    def connect(self, timeout: float = _TIMEOUT_S) -> ReasonCode:
        """The broker's answer to CONNECT; on a refusal the client is left disconnected."""
        self._client.connect(self.host, self.port, keepalive=30)
        self._client.loop_start()
        reason = self._connack.get(timeout=timeout)
        if reason.is_failure:
            self.close()
        return reason

    def subscribe(self, topic: str, qos: int = 1, timeout: float = _TIMEOUT_S) -> None:
        result, mid = self._client.subscribe(topic, qos=qos)
        if result != mqtt.MQTT_ERR_SUCCESS or mid is None:
            raise RuntimeError(f"subscribe to {topic!r} was not sent: {mqtt.error_string(result)}")
        reasons = self._wait(self._subacks, mid, timeout)
        if any(reason.is_failure for reason in reasons):
            raise RuntimeError(f"subscribe to {topic!r} refused: {reasons}")

    def publish(
        self, topic: str, payload: bytes, qos: int = 1, timeout: float = _TIMEOUT_S
    ) -> ReasonCode:
        """Publish and wait for the PUBACK; its reason code (always Success under MQTT 3.1.1)."""
        info = self._client.publish(topic, payload, qos=qos)
        return self._wait(self._pubacks, info.mid, timeout)

    def receive(self, timeout: float = _TIMEOUT_S) -> mqtt.MQTTMessage:
        return self.messages.get(timeout=timeout)

    def close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()

    def _wait(self, answers: dict[int, _T], mid: int, timeout: float) -> _T:
        with self._acks:
            if not self._acks.wait_for(lambda: mid in answers, timeout):
                raise TimeoutError(f"no answer from the broker for message id {mid}")
            return answers.pop(mid)

    def __enter__(self) -> MqttTestClient:
        reason = self.connect()
        if reason.is_failure:
            raise ConnectionRefusedError(
                f"{self.host}:{self.port} refused the connection: {reason}"
            )
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
