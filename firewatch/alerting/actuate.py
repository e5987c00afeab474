"""Actuation: on red evidence from a device that takes a command (CONTRACT.md `set`: a
charging port's power off, a gas detector's shut-off valve closed; declared in `kernel.kinds`),
command it and watch for its answer (`power_off`, `valve_closed`) carrying the command's id;
none within 10 s escalates.

One command per alert, device and port (its id is derived from them, so repeated evidence does
not repeat it). A silence does not stop it: cutting a charging port or shutting off the gas is a
safety action, not a notification. The command is recorded before it is published; one that
could not be published is published again by the next tick. The engine never opens a valve.

>>> c = Command.for_device("AL-1", "CHG-7", DeviceKind.CHARGING, 3, "热失控")
>>> c.topic, c.payload()[:32]
('fw/v1/charging/CHG-7/set', b'{"port":3,"power":"off","reason"')
>>> Command.for_device("AL-2", "GAS-1", DeviceKind.GAS, None, "LEL 40 %").payload()[:34]
b'{"valve":"close","reason":"LEL 40 '
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from types import TracebackType
from typing import Final, Protocol

import paho.mqtt.client as mqtt
import psycopg
from paho.mqtt.enums import CallbackAPIVersion

from firewatch.alerting.errors import CommandPublishError
from firewatch.alerting.records import CommandAnswer, Signal
from firewatch.kernel import topics
from firewatch.kernel.broker import BrokerAddress
from firewatch.kernel.contract import DeviceKind, Level
from firewatch.kernel.kinds import KINDS


class CommandReason(StrEnum):
    SEND = "red_evidence"
    NOT_RED = "not_red"
    NO_COMMAND = "kind_takes_no_command"  # a smoke detector, a camera: nothing to switch off
    NO_PORT = "no_port_named"  # a port command, and the evidence does not say which port


_BY_NAME: Final = {kind.value: k for kind, k in KINDS.items()}


def decide_command(signal: Signal, device_kind: str | None) -> CommandReason:
    if signal.level != Level.RED:
        return CommandReason.NOT_RED
    declared = _BY_NAME.get(device_kind or "")
    if declared is None or declared.command is None:
        return CommandReason.NO_COMMAND
    if declared.command.target is not None and signal.port is None:
        return CommandReason.NO_PORT
    return CommandReason.SEND


@dataclass(frozen=True, slots=True)
class Command:
    command_id: str
    device_id: str
    kind: DeviceKind
    port: int | None  # the target part, for a kind whose command names one
    reason: str

    @classmethod
    def for_device(cls, alert_id: str, device_id: str, kind: DeviceKind, port: int | None,
                   reason: str) -> Command:  # fmt: skip
        part = "" if port is None else f"/{port}"
        digest = hashlib.sha256(f"{alert_id}/{device_id}{part}".encode()).hexdigest()[:20]
        return cls(f"CMD-{digest}", device_id, kind, port, reason)

    @property
    def topic(self) -> str:
        return topics.command(self.kind, self.device_id)

    def payload(self) -> bytes:
        command = KINDS[self.kind].command
        if command is None:
            raise ValueError(f"a {self.kind} device takes no command")
        body = command.payload(self.command_id, self.reason, self.port)
        return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


class Publisher(Protocol):
    def publish(self, topic: str, payload: bytes) -> None:
        """Publish at QoS 1 and wait for the broker's acknowledgement; raise if it fails."""
        ...


class MqttPublisher:
    """`with MqttPublisher(broker, client_id) as p: p.publish(topic, payload)` (paho-mqtt)."""

    def __init__(self, broker: BrokerAddress, client_id: str, timeout_s: float = 5.0) -> None:
        self._broker = broker
        self._timeout = timeout_s
        self._client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"{client_id}-cmd-{secrets.token_hex(3)}",
            protocol=mqtt.MQTTv5 if broker.mqtt5 else mqtt.MQTTv311,
        )
        if broker.username is not None:
            self._client.username_pw_set(broker.username, broker.password)
        if broker.tls:
            self._client.tls_set()

    def __enter__(self) -> MqttPublisher:
        try:
            self._client.connect(self._broker.host, self._broker.port)
        except OSError as exc:
            raise CommandPublishError(
                f"cannot connect to the MQTT broker at {self._broker.host}:{self._broker.port}"
                f" to send commands: {exc}"
            ) from exc
        self._client.loop_start()
        return self

    def __exit__(self, _t: type[BaseException] | None, _e: BaseException | None,
                 _tb: TracebackType | None) -> None:  # fmt: skip
        self._client.loop_stop()
        self._client.disconnect()

    def publish(self, topic: str, payload: bytes) -> None:
        info = self._client.publish(topic, payload, qos=1)
        where = f"command on {topic} at {self._broker.host}:{self._broker.port}"
        try:
            info.wait_for_publish(self._timeout)
        except (RuntimeError, ValueError) as exc:
            raise CommandPublishError(f"{where} was not sent: {exc}") from exc
        if not info.is_published():
            raise CommandPublishError(f"{where}: no PUBACK in {self._timeout} s")


# -- the record of commands --------------------------------------------------------------------


def request(conn: psycopg.Connection, alert_id: str, c: Command, now: datetime,
            timeout_s: float) -> bool:  # fmt: skip
    """Record a command (in the caller's transaction); False when it was already requested."""
    cur = conn.execute(
        "INSERT INTO actuation (command_id, alert_id, device_id, kind, port, reason,"
        " requested_at, deadline_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"
        " ON CONFLICT DO NOTHING",
        (c.command_id, alert_id, c.device_id, c.kind.value, c.port, c.reason, now,
         now + timedelta(seconds=timeout_s)),
    )  # fmt: skip
    return cur.rowcount == 1


def unpublished(conn: psycopg.Connection) -> list[Command]:
    rows = conn.execute(
        "SELECT command_id, device_id, kind, port, reason FROM actuation"
        " WHERE published_at IS NULL AND answered_at IS NULL AND escalated_at IS NULL"
        " ORDER BY requested_at"
    ).fetchall()
    return [Command(c, d, DeviceKind(k), p, r) for c, d, k, p, r in rows if k in _BY_NAME]


def mark_published(conn: psycopg.Connection, command_id: str, now: datetime) -> None:
    conn.execute(
        "UPDATE actuation SET published_at = %s WHERE command_id = %s AND published_at IS NULL",
        (now, command_id),
    )


def record_answer(conn: psycopg.Connection, answer: CommandAnswer, now: datetime) -> str | None:
    """The alert whose command was answered (None: not ours, or answered already)."""
    row = conn.execute(
        "UPDATE actuation SET answered_at = %s, answer_seq = %s WHERE command_id = %s"
        " AND device_id = %s AND answered_at IS NULL RETURNING alert_id",
        (now, answer.seq, answer.command_id, answer.device_id),
    ).fetchone()
    return None if row is None else str(row[0])


def overdue(conn: psycopg.Connection, now: datetime) -> list[tuple[str, str]]:
    """(command_id, alert_id) of commands unanswered past their deadline, not yet escalated."""
    rows = conn.execute(
        "SELECT command_id, alert_id FROM actuation WHERE answered_at IS NULL"
        " AND escalated_at IS NULL AND deadline_at <= %s ORDER BY deadline_at",
        (now,),
    ).fetchall()
    return [(str(r[0]), str(r[1])) for r in rows]


def mark_escalated(conn: psycopg.Connection, command_id: str, now: datetime) -> None:
    conn.execute("UPDATE actuation SET escalated_at = %s WHERE command_id = %s", (now, command_id))
