"""The charging ports' side of actuation, which a scripted day cannot know in advance: a port
that is sent `{"power": "off", "id": ...}` on its `set` topic cuts the power and answers with
a `power_off` event carrying that id (CONTRACT.md section 1), unless the station is dead by then
(its Last Will was its last word). The engine escalates a port that does not answer in 10 s.
"""

from __future__ import annotations

import bisect
import json
import logging
from collections.abc import Sequence
from typing import Any

import paho.mqtt.client as mqtt

from firewatch.alerting.actuate import MqttPublisher
from firewatch.demo.pace import DayClock
from firewatch.kernel import topics
from firewatch.kernel.broker import BrokerAddress
from firewatch.kernel.contract import DeviceKind, MessageType
from firewatch.simulators.devices.base import LOCAL, encode
from firewatch.simulators.records import Message

log = logging.getLogger("firewatch.demo")


class ChargingPorts(MqttPublisher):
    """`with ChargingPorts(broker, clock, messages):` the run's charging stations answer (the
    engine's own publisher's connection, listening as well)."""

    def __init__(self, broker: BrokerAddress, clock: DayClock, messages: Sequence[Message]) -> None:
        super().__init__(broker, "fw-demo-ports")
        self._clock = clock
        # Per station: when it spoke, its counter then, and whether that was its Last Will.
        self._said: dict[str, list[tuple[float, int, bool]]] = {}
        for m in messages:
            parts = topics.parse(m.topic)
            if parts is None or parts.kind != DeviceKind.CHARGING:
                continue
            plain = parts.message_type == MessageType.AVAILABILITY  # no counter in `online`
            seq = -1 if plain else int(json.loads(m.payload)["seq"])
            self._said.setdefault(parts.subject_id, []).append((m.at.timestamp(), seq, m.will))
        self.answered: list[str] = []
        self._client.on_connect = self._subscribe
        self._client.on_message = self._command

    def _subscribe(self, client: mqtt.Client, _u: Any, _f: Any, _r: Any, _p: Any) -> None:
        client.subscribe(topics.command(DeviceKind.CHARGING, "+"), qos=1)

    def _command(self, client: mqtt.Client, _u: Any, message: mqtt.MQTTMessage) -> None:
        parts = topics.parse(message.topic)
        try:
            body = json.loads(message.payload)
            port, command_id = int(body["port"]), str(body["id"])
        except (ValueError, KeyError, TypeError):
            log.warning("a charging port got a command it cannot read on %s", message.topic)
            return
        if parts is None or body.get("power") != "off":
            return
        now = self._clock.now()
        said = self._said.get(parts.subject_id, [])
        before = said[: bisect.bisect_right(said, (now.timestamp(), 2**62, True))]
        if not said or (before and before[-1][2]):
            return  # not one of the run's stations, or it is dead: nobody answers
        seq = max((s for _, s, _ in before), default=0) + 1
        answer = {"ts": now.astimezone(LOCAL).isoformat(timespec="milliseconds"), "seq": seq,
                  "event": "power_off", "port": port, "id": command_id}  # fmt: skip
        topic = topics.device(DeviceKind.CHARGING, parts.subject_id, MessageType.EVENT)
        client.publish(topic, encode(answer), qos=1)  # not `publish`: this is paho's own thread
        self.answered.append(command_id)
