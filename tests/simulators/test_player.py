"""Scenarios played through the real broker arrive complete, Last Will included."""

from __future__ import annotations

import queue
import secrets
import time
from collections import Counter

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from firewatch.kernel import topics
from firewatch.kernel.broker import BrokerAddress
from firewatch.kernel.clock import SystemClock
from firewatch.simulators.clock import AcceleratedClock
from firewatch.simulators.errors import PlayError
from firewatch.simulators.player import Player
from tests.simulators.helpers import clear_retained, run

SPEED = 20_000.0  # an hour of traffic in 0.2 s


def _subscriber(
    host: str, port: int, filters: list[str]
) -> tuple[mqtt.Client, queue.Queue[mqtt.MQTTMessage]]:
    got: queue.Queue[mqtt.MQTTMessage] = queue.Queue()
    subscribed: queue.Queue[object] = queue.Queue()
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"t-sub-{secrets.token_hex(3)}")
    client.on_message = lambda _c, _u, m: got.put(m)
    client.on_subscribe = lambda *_a: subscribed.put(True)
    client.connect(host, port)
    client.loop_start()
    client.subscribe([(f, 1) for f in filters])
    subscribed.get(timeout=5)
    return client, got


def test_a_run_arrives_complete_with_the_brokers_last_will(mqtt_broker: tuple[str, int]) -> None:
    traffic = run(("offline", "flaming_fire"))
    devices = {d: t for t in traffic.truths for d in t.device_ids}
    filters = [topics.device("smoke", d, "#") for d in devices]
    client, got = _subscriber(*mqtt_broker, filters)
    try:
        clock = AcceleratedClock(SystemClock(), speed=SPEED, sim_start=traffic.start)
        broker = BrokerAddress(mqtt_broker[0], mqtt_broker[1], None, None, False)
        report = Player(broker, clock, client_id=f"t-play-{secrets.token_hex(3)}").play(
            traffic.messages
        )
        assert report.wills == 1
        assert report.published == len(traffic.messages) - 1  # the will is the broker's
        received: list[mqtt.MQTTMessage] = []
        deadline = time.monotonic() + 10
        while len(received) < len(traffic.messages) and time.monotonic() < deadline:
            try:
                message = got.get(timeout=0.5)
            except queue.Empty:
                continue
            if not message.retain:  # a retained copy is a leftover of an earlier run
                received.append(message)
        sent = Counter((m.topic, m.payload) for m in traffic.messages)
        assert Counter((m.topic, m.payload) for m in received) == sent
    finally:
        client.disconnect()
        client.loop_stop()
        clear_retained(mqtt_broker, [topics.availability("smoke", d) for d in devices])


def test_an_unreachable_broker_is_named_in_the_error() -> None:
    traffic = run(("tamper",))
    clock = AcceleratedClock(SystemClock(), speed=SPEED, sim_start=traffic.start)
    player = Player(BrokerAddress("127.0.0.1", 1, None, None, False), clock, timeout_s=2)
    with pytest.raises(PlayError, match=r"127\.0\.0\.1:1"):
        player.play(traffic.messages)
