"""A device stand-in for tests: publishes raw payloads at QoS 1 and waits for the broker's ack."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion


def publish_all(port: int, messages: Iterable[tuple[str, bytes | str | dict[str, Any]]]) -> int:
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"dev-{secrets.token_hex(4)}")
    client.max_queued_messages_set(0)
    client.max_inflight_messages_set(1000)
    client.connect("127.0.0.1", port)
    client.loop_start()
    infos = []
    try:
        for topic, payload in messages:
            body = json.dumps(payload).encode() if isinstance(payload, dict) else payload
            infos.append(client.publish(topic, body, qos=1))
        for info in infos:
            info.wait_for_publish(30)
            assert info.is_published(), f"broker did not acknowledge message {info.mid}"
    finally:
        client.loop_stop()
        client.disconnect()
    return len(infos)
