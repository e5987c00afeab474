"""A QoS 1 flood from many devices, published in a background thread.

By default the publisher expects one uninterrupted connection: a broker that goes away fails
the flood. With `survive_restarts` it behaves like a well-built device fleet instead: it waits
while the broker is away, paho resends what was in flight after its automatic reconnect, and at
the end every message the broker did not acknowledge is published again until it is. A message
may then reach the broker twice; readings are stored once by (device_id, ts, seq), so that is
safe, and it is what devices in the field do.
"""

from __future__ import annotations

import secrets
import threading
import time
from datetime import UTC, datetime
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from firewatch.kernel import topics

_SURVIVE_S = 60.0  # how long a surviving flood waits for the broker in all


class Flood(threading.Thread):
    """`total` smoke readings round-robin over `devices`, at most `rate` per second."""

    def __init__(
        self,
        port: int,
        devices: list[str],
        total: int,
        rate: float,
        *,
        survive_restarts: bool = False,
    ) -> None:
        super().__init__(daemon=True)
        self.port, self.devices, self.total, self.rate = port, devices, total, rate
        self.survive_restarts = survive_restarts
        self.published = 0
        self.republished = 0  # publishes beyond the first of a message (surviving flood only)
        self.connects = 0  # connections the broker accepted (surviving flood only)
        self.error: BaseException | None = None
        self._connected = threading.Event()
        self._base_ms = int(datetime.now(UTC).timestamp() * 1000)

    def run(self) -> None:
        try:
            self._flood()
        except BaseException as exc:  # reported by the test through .error
            self.error = exc

    def message(self, n: int) -> tuple[str, bytes]:
        """The n-th message of the flood: always the same topic and bytes."""
        device = self.devices[n % len(self.devices)]
        seq = n // len(self.devices)
        body = (
            f'{{"ts":{self._base_ms + seq},"seq":{seq},"smoke_obs":0.05,"temp_c":21.5,'
            '"alarm":false}'
        ).encode()
        return topics.reading("smoke", device), body

    def _client(self) -> mqtt.Client:
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"flood-{secrets.token_hex(4)}")
        client.max_queued_messages_set(0)
        client.max_inflight_messages_set(2000)
        if self.survive_restarts:
            client.reconnect_delay_set(1, 2)  # a restarted broker is back within seconds
            client.on_connect = self._on_connect
            client.on_disconnect = self._on_disconnect
        return client

    def _on_connect(self, _c: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        if not reason.is_failure:
            self.connects += 1
            self._connected.set()

    def _on_disconnect(self, _c: mqtt.Client, _u: Any, _f: Any, _r: Any, _p: Any) -> None:
        self._connected.clear()

    def _flood(self) -> None:
        client = self._client()
        client.connect("127.0.0.1", self.port)
        client.loop_start()
        started = time.monotonic()
        infos = []
        for n in range(self.total):
            if self.survive_restarts:
                self._wait_connected()
            infos.append(client.publish(*self.message(n), qos=1))
            ahead = (n + 1) / self.rate - (time.monotonic() - started)
            if ahead > 0:
                time.sleep(ahead)
        if self.survive_restarts:
            self.published = self._until_acknowledged(client, infos)
        else:
            for info in infos:
                info.wait_for_publish(60)
            self.published = sum(1 for info in infos if info.is_published())
        client.loop_stop()
        client.disconnect()

    def _wait_connected(self) -> None:
        if not self._connected.wait(_SURVIVE_S):
            raise TimeoutError(f"broker on port {self.port} not back within {_SURVIVE_S:g} s")

    def _until_acknowledged(self, client: mqtt.Client, infos: list[mqtt.MQTTMessageInfo]) -> int:
        """Wait for the broker's PUBACKs; publish again whatever it never acknowledged (sent
        while it was going down, or refused by paho while disconnected). Returns how many
        messages are acknowledged."""
        pending = dict(enumerate(infos))
        deadline = time.monotonic() + _SURVIVE_S
        while pending and time.monotonic() < deadline:
            # A round: give paho's own resend after a reconnect a chance first.
            round_end = min(deadline, time.monotonic() + 10.0)
            while time.monotonic() < round_end and not all(
                _acknowledged(i) or _refused(i) for i in pending.values()
            ):
                time.sleep(0.05)
            pending = {n: i for n, i in pending.items() if not _acknowledged(i)}
            for n in pending:
                self._wait_connected()
                pending[n] = client.publish(*self.message(n), qos=1)
                self.republished += 1
        return self.total - len(pending)

    def check(self) -> None:
        self.join(120)
        assert self.error is None, self.error
        assert self.published == self.total, f"broker acknowledged {self.published}/{self.total}"


def _acknowledged(info: mqtt.MQTTMessageInfo) -> bool:
    try:
        return info.is_published()
    except (ValueError, RuntimeError):  # not queued, or not sent: no PUBACK will ever count
        return False


def _refused(info: mqtt.MQTTMessageInfo) -> bool:
    return info.rc != mqtt.MQTT_ERR_SUCCESS
