"""The commanded devices' side of actuation, which a scripted day cannot know in advance: a
device of a kind that takes a command (`kernel.kinds`: a charging port sent `{"power": "off",
"port": ..., "id": ...}`, a kitchen gas detector sent `{"valve": "close", "id": ...}`) on its
`set` topic does it and answers with its kind's answer event (`power_off`, `valve_closed`)
carrying that id (CONTRACT.md section 1), unless the device is dead by then (its Last Will was
its last word). The engine escalates a device that does not answer in 10 s.
"""

from __future__ import annotations

import bisect
import json
import logging
from collections.abc import Sequence
from typing import Any, Final

import paho.mqtt.client as mqtt

from firewatch.alerting.actuate import MqttPublisher
from firewatch.demo.pace import DayClock
from firewatch.kernel import topics
from firewatch.kernel.broker import BrokerAddress
from firewatch.kernel.contract import DeviceKind, MessageType
from firewatch.kernel.kinds import KINDS
from firewatch.simulators.devices.base import LOCAL, encode
from firewatch.simulators.records import Message

log = logging.getLogger("firewatch.demo")


COMMANDED: Final = {kind: k.command for kind, k in KINDS.items() if k.command is not None}


class CommandedDevices(MqttPublisher):
    """`with CommandedDevices(broker, clock, messages):` the run's charging stations and gas
    valves answer (the engine's own publisher's connection, listening as well)."""

    def __init__(self, broker: BrokerAddress, clock: DayClock, messages: Sequence[Message]) -> None:
        super().__init__(broker, "fw-demo-ports")
        self._clock = clock
        # Per device: when it spoke, its counter then, and whether that was its Last Will.
        self._said: dict[str, list[tuple[float, int, bool]]] = {}
        for m in messages:
            parts = topics.parse(m.topic)
            if parts is None or parts.kind not in COMMANDED:
                continue
            plain = parts.message_type == MessageType.AVAILABILITY  # no counter in `online`
            seq = -1 if plain else int(json.loads(m.payload)["seq"])
            self._said.setdefault(parts.subject_id, []).append((m.at.timestamp(), seq, m.will))
        self.answered: list[str] = []
        self._client.on_connect = self._subscribe
        self._client.on_message = self._command

    def _subscribe(self, client: mqtt.Client, _u: Any, _f: Any, _r: Any, _p: Any) -> None:
        client.subscribe([(topics.command(kind, "+"), 1) for kind in COMMANDED])

    def _command(self, client: mqtt.Client, _u: Any, message: mqtt.MQTTMessage) -> None:
        parts = topics.parse(message.topic)
        command = COMMANDED.get(DeviceKind(parts.kind)) if parts and parts.known_kind else None
        try:
            body = json.loads(message.payload)
            command_id = str(body["id"])
            target = {} if command is None or command.target is None else {
                command.target: int(body[command.target])}  # fmt: skip
        except (ValueError, KeyError, TypeError):
            log.warning("a device got a command it cannot read on %s", message.topic)
            return
        if parts is None or command is None:
            return
        if any(body.get(key) != value for key, value in command.action.items()):
            return  # not the command this kind takes (the engine never opens a valve)
        now = self._clock.now()
        said = self._said.get(parts.subject_id, [])
        before = said[: bisect.bisect_right(said, (now.timestamp(), 2**62, True))]
        if not said or (before and before[-1][2]):
            return  # not one of the run's devices, or it is dead: nobody answers
        seq = max((s for _, s, _ in before), default=0) + 1
        answer = {"ts": now.astimezone(LOCAL).isoformat(timespec="milliseconds"), "seq": seq,
                  "event": command.answer, **target, "id": command_id}  # fmt: skip
        topic = topics.device(parts.kind, parts.subject_id, MessageType.EVENT)
        client.publish(topic, encode(answer), qos=1)  # not `publish`: this is paho's own thread
        self.answered.append(command_id)
