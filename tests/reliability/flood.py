"""A QoS 1 flood from many devices, published in a background thread."""

from __future__ import annotations

import secrets
import threading
import time
from datetime import UTC, datetime

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from firewatch import topics


class Flood(threading.Thread):
    """`total` smoke readings round-robin over `devices`, at most `rate` per second."""

    def __init__(self, port: int, devices: list[str], total: int, rate: float) -> None:
        super().__init__(daemon=True)
        self.port, self.devices, self.total, self.rate = port, devices, total, rate
        self.published = 0
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self._flood()
        except BaseException as exc:  # reported by the test through .error
            self.error = exc

    def _flood(self) -> None:
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"flood-{secrets.token_hex(4)}")
        client.max_queued_messages_set(0)
        client.max_inflight_messages_set(2000)
        client.connect("127.0.0.1", self.port)
        client.loop_start()
        started = time.monotonic()
        base_ms = int(datetime.now(UTC).timestamp() * 1000)
        infos = []
        for n in range(self.total):
            device = self.devices[n % len(self.devices)]
            seq = n // len(self.devices)
            body = (
                f'{{"ts":{base_ms + seq},"seq":{seq},"smoke_obs":0.05,"temp_c":21.5,"alarm":false}}'
            ).encode()
            infos.append(client.publish(topics.reading("smoke", device), body, qos=1))
            ahead = (n + 1) / self.rate - (time.monotonic() - started)
            if ahead > 0:
                time.sleep(ahead)
        for info in infos:
            info.wait_for_publish(60)
        self.published = sum(1 for info in infos if info.is_published())
        client.loop_stop()
        client.disconnect()

    def check(self) -> None:
        self.join(120)
        assert self.error is None, self.error
        assert self.published == self.total, f"broker acknowledged {self.published}/{self.total}"
