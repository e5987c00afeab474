"""Builds and parses every MQTT topic of the contract; no other module formats a topic.

>>> parse("fw/v1/smoke/D-1/reading")
Topic(kind='smoke', subject_id='D-1', message_type='reading')
>>> reading("charging", "C7")
'fw/v1/charging/C7/reading'
>>> parse("fw/v1/venue/V1/scan").is_scan
True
>>> parse("fw/v2/smoke/D-1/reading") is None
True
>>> engine_heartbeat("p2of4")
'fw/v1/engine/p2of4/heartbeat'
>>> parse_engine("fw/v1/engine/p2of4/heartbeat")
EngineTopic(partition='p2of4', message_type='heartbeat')
>>> parse_engine("fw/v1/smoke/D-1/availability") is None
True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from firewatch.kernel.contract import ID_PATTERN, DeviceKind, MessageType

PREFIX: Final = "fw/v1"
SUBSCRIPTION: Final = f"{PREFIX}/#"
VENUE: Final = "venue"
ENGINE: Final = "engine"
ENGINE_AVAILABILITY: Final = "availability"
ENGINE_HEARTBEAT: Final = "heartbeat"
ENGINE_MESSAGE_TYPES: Final = frozenset({ENGINE_AVAILABILITY, ENGINE_HEARTBEAT})
DEVICE_MESSAGE_TYPES: Final = frozenset(
    {
        MessageType.READING,
        MessageType.EVENT,
        MessageType.STATUS,
        MessageType.AVAILABILITY,
        MessageType.SET,
    }
)


@dataclass(frozen=True, slots=True)
class Topic:
    """A topic split into its parts; `kind` is the raw segment, not yet checked."""

    kind: str
    subject_id: str
    message_type: str

    @property
    def is_scan(self) -> bool:
        return self.kind == VENUE and self.message_type == MessageType.SCAN

    @property
    def known_kind(self) -> bool:
        return self.kind in DeviceKind.__members__.values() or self.kind == VENUE

    @property
    def valid_id(self) -> bool:
        return ID_PATTERN.fullmatch(self.subject_id) is not None


def parse(topic: str) -> Topic | None:
    """Split `fw/v1/{kind}/{id}/{type}`; None when the topic is not of that shape at all."""
    parts = topic.split("/")
    if len(parts) != 5 or f"{parts[0]}/{parts[1]}" != PREFIX:
        return None
    return Topic(kind=parts[2], subject_id=parts[3], message_type=parts[4])


def device(kind: str, device_id: str, message_type: str) -> str:
    return f"{PREFIX}/{kind}/{device_id}/{message_type}"


def reading(kind: str, device_id: str) -> str:
    return device(kind, device_id, MessageType.READING)


def event(kind: str, device_id: str) -> str:
    return device(kind, device_id, MessageType.EVENT)


def status(kind: str, device_id: str) -> str:
    return device(kind, device_id, MessageType.STATUS)


def availability(kind: str, device_id: str) -> str:
    return device(kind, device_id, MessageType.AVAILABILITY)


def command(kind: str, device_id: str) -> str:
    return device(kind, device_id, MessageType.SET)


def scan(venue_id: str) -> str:
    return f"{PREFIX}/{VENUE}/{venue_id}/{MessageType.SCAN}"


def engine_availability(partition: str) -> str:
    """The engine's own retained availability topic (STYLE.md section 9)."""
    return f"{PREFIX}/{ENGINE}/{partition}/{ENGINE_AVAILABILITY}"


def engine_heartbeat(partition: str) -> str:
    """The engine's periodic sign of life (not retained): silence while `online` is a hang."""
    return f"{PREFIX}/{ENGINE}/{partition}/{ENGINE_HEARTBEAT}"


ENGINE_SUBSCRIPTIONS: Final = (engine_availability("+"), engine_heartbeat("+"))
"""What the watchdog subscribes to: every partition's availability and heartbeat."""


@dataclass(frozen=True, slots=True)
class EngineTopic:
    partition: str
    message_type: str


def parse_engine(topic: str) -> EngineTopic | None:
    """An engine instance's own topic split into partition and type; None for any other topic
    (device topics, unknown engine message types, a partition that is not a valid id).

    >>> parse_engine(engine_availability("p1of1"))
    EngineTopic(partition='p1of1', message_type='availability')
    >>> [parse_engine(t) for t in ("fw/v1/engine/p1of1/status", "fw/v1/engine/a b/heartbeat")]
    [None, None]
    """
    parts = parse(topic)
    if (
        parts is None
        or parts.kind != ENGINE
        or parts.message_type not in ENGINE_MESSAGE_TYPES
        or not parts.valid_id
    ):
        return None
    return EngineTopic(parts.subject_id, parts.message_type)
