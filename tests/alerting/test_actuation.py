"""Actuation through a real broker: red charging evidence commands the port off on its `set`
topic; the device's `power_off` answer comes back through the real ingest pipeline and is
recorded; a command nobody answers within 10 s escalates the alert one step at once."""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from datetime import UTC, datetime
from typing import Any

import paho.mqtt.client as mqtt
import psycopg
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from firewatch.alerting.actuate import MqttPublisher
from firewatch.ingest.decode import DecodeLimits
from firewatch.ingest.pipeline import IngestPipeline, IngestSettings
from firewatch.ingest.subscribe import Subscriber
from firewatch.kernel import topics
from firewatch.kernel.broker import BrokerAddress
from firewatch.kernel.clock import SystemClock
from firewatch.kernel.contract import Level
from tests.alerting.receiver import wait_for
from tests.alerting.support import CHIEF, Harness, seed
from tests.ingest.publish import publish_all
from tests.support.mosquitto import PrivateMosquitto


class Device:
    """A charging station (or gas detector) listening on its own `set` topic, as the field
    hardware does."""

    def __init__(self, port: int, device_id: str, kind: str = "charging") -> None:
        self.commands: list[dict[str, Any]] = []
        self._client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"dev-{device_id}")
        self._client.on_message = lambda _c, _u, m: self.commands.append(json.loads(m.payload))
        self._client.connect("127.0.0.1", port)
        subscribed = threading.Event()
        self._client.on_subscribe = lambda *_a: subscribed.set()
        self._client.subscribe(topics.command(kind, device_id), qos=1)
        self._client.loop_start()
        assert subscribed.wait(10), "the device could not subscribe to its set topic"

    def close(self) -> None:
        self._client.loop_stop()
        self._client.disconnect()


@pytest.fixture
def h(fresh_db: str, engine_broker: PrivateMosquitto) -> Iterator[Harness]:
    seed(fresh_db)
    broker = BrokerAddress("127.0.0.1", engine_broker.port, None, None, tls=False)
    with MqttPublisher(broker, f"fw-test-{secrets.token_hex(3)}") as publisher:
        harness = Harness(fresh_db, publisher=publisher)
        try:
            yield harness
        finally:
            harness.close()


def _actuation(h: Harness) -> tuple[Any, ...]:
    row = h.db.execute(
        "SELECT command_id, device_id, port, published_at IS NOT NULL, answered_at IS NOT NULL,"
        " escalated_at IS NOT NULL FROM actuation"
    ).fetchone()
    assert row is not None
    return tuple(row)


@contextmanager
def ingest(h: Harness, engine_broker: PrivateMosquitto, fresh_db: str) -> Iterator[None]:
    """The real ingest pipeline on the broker, handing its batches to the alerting stage."""
    broker = BrokerAddress("127.0.0.1", engine_broker.port, None, None, tls=False)
    clock = SystemClock()
    subscriber = Subscriber(broker, f"fw-eng-{secrets.token_hex(3)}", clock, session_expiry_s=60,
                            capacity=1000)  # fmt: skip
    subscriber.__enter__()
    pipeline = IngestPipeline(subscriber, lambda: psycopg.connect(fresh_db), clock,
                              IngestSettings(100, 0.05, DecodeLimits(300, 86400)), [h.stage])  # fmt: skip
    stop = threading.Event()
    thread = threading.Thread(target=pipeline.run, args=(stop,), daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(30)
        subscriber.__exit__(None, None, None)


def test_red_charging_evidence_cuts_the_port_and_the_answer_is_recorded(
    h: Harness, engine_broker: PrivateMosquitto, fresh_db: str
) -> None:
    device = Device(engine_broker.port, "CHG-1")
    with closing(device), ingest(h, engine_broker, fresh_db):
        h.fire("CHG-1", Level.RED, sensed=("gas", "heat"), port=3, rule_id="thermal_runaway")
        h.fire("CHG-1", Level.RED, sensed=("gas", "heat"), port=3, rule_id="thermal_runaway")
        wait_for(lambda: bool(device.commands), 10, "the command reaching the device")
        time.sleep(0.2)
        assert len(device.commands) == 1  # repeated evidence does not repeat the command
        command = device.commands[0]
        assert (command["port"], command["power"]) == (3, "off")
        assert command["reason"].startswith("thermal_runaway")
        command_id, device_id, port, published, answered, _ = _actuation(h)
        assert (command["id"], device_id, port, published, answered) == (
            command_id, "CHG-1", 3, True, False)  # fmt: skip
        # The device answers on its event topic, through the broker and the ingest pipeline.
        ts = datetime.now(UTC).isoformat()
        publish_all(engine_broker.port, [(topics.event("charging", "CHG-1"), {
            "ts": ts, "seq": 40, "event": "power_off", "port": 3, "id": command_id})])  # fmt: skip

        def answered_now() -> bool:
            h.stage.drain()
            return bool(_actuation(h)[4])

        wait_for(answered_now, 15, "the power_off answer recorded")
        h.advance(30)  # answered in time: no step up for it
        assert not h.db.execute("SELECT 1 FROM alert_escalation").fetchall()


def test_red_gas_evidence_closes_the_valve_and_the_answer_is_recorded(
    h: Harness, engine_broker: PrivateMosquitto, fresh_db: str
) -> None:
    """A kitchen's gas leak: the valve closes (no port: the whole device), the answer is
    `valve_closed` with the command's id; the engine never sends anything to open it."""
    device = Device(engine_broker.port, "GAS-1", kind="gas")
    with closing(device), ingest(h, engine_broker, fresh_db):
        h.fire("GAS-1", Level.RED, sensed=("lel",), rule_id="gas.leak")
        h.fire("GAS-1", Level.RED, sensed=("lel",), rule_id="gas.leak_high")
        wait_for(lambda: bool(device.commands), 10, "the command reaching the valve")
        time.sleep(0.2)
        assert len(device.commands) == 1  # one valve, one command per alert
        command = device.commands[0]
        assert command["valve"] == "close" and "port" not in command, command
        assert command["reason"].startswith("gas.leak")
        command_id, device_id, port, published, answered, _ = _actuation(h)
        assert (command["id"], device_id, port, published, answered) == (
            command_id, "GAS-1", None, True, False)  # fmt: skip
        ts = datetime.now(UTC).isoformat()
        publish_all(engine_broker.port, [(topics.event("gas", "GAS-1"), {
            "ts": ts, "seq": 7, "event": "valve_closed", "id": command_id})])  # fmt: skip

        def answered_now() -> bool:
            h.stage.drain()
            return bool(_actuation(h)[4])

        wait_for(answered_now, 15, "the valve_closed answer recorded")
        h.advance(30)
        assert not h.db.execute("SELECT 1 FROM alert_escalation").fetchall()
        a = h.alert("V-KITCHEN")
        assert a["state"] == "confirmed" and a["level"] == "red", a


def test_an_unanswered_command_escalates_after_10_s(
    h: Harness, engine_broker: PrivateMosquitto
) -> None:
    device = Device(engine_broker.port, "CHG-1")
    try:
        h.fire("CHG-1", Level.RED, sensed=("gas",), port=5)
        wait_for(lambda: bool(device.commands), 10, "the command reaching the device")
        a = h.alert("V-SHED")
        h.advance(9)
        assert not h.notices(a["alert_id"], purpose="escalation")
        h.advance(1)  # 10 s without an answer: the chief, at once (not at 90 s)
        assert h.recipients(a["alert_id"], "escalation") == {CHIEF}
        row = h.db.execute("SELECT step, reason FROM alert_escalation").fetchall()
        assert row == [(1, "actuation_unanswered")]
        assert _actuation(h)[5]  # escalated once, not again at every tick
        h.advance(60)
        assert h.db.execute("SELECT count(*) FROM alert_escalation").fetchone() == (1,)
    finally:
        device.close()
