"""Decoding and validation: one MQTT message in, one typed record or one `Rejected` out.

`decode` is pure: no clock (the time of receipt is passed in), no I/O (the registry is a
look-up passed in), no exception for a bad message. It checks, in this order, the topic, the
registry, the payload as bytes and JSON, then the fields (see `ingest.reasons` for the codes).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from firewatch.ingest import specs
from firewatch.ingest.envelope import envelope
from firewatch.ingest.fields import Problem, missing, show, take, unlisted
from firewatch.ingest.payload import availability
from firewatch.ingest.reasons import RejectReason
from firewatch.ingest.records import (
    Availability,
    Decoded,
    DeviceEvent,
    DeviceInfo,
    DeviceStatus,
    Reading,
    RegistryView,
    Rejected,
    VenueScan,
)
from firewatch.ingest.scans import KEYS as SCAN_KEYS
from firewatch.ingest.scans import take_scan
from firewatch.ingest.timestamps import DecodeLimits
from firewatch.kernel import topics
from firewatch.kernel.contract import DeviceKind, MessageType
from firewatch.kernel.kinds import EVENTS

__all__ = ["DecodeLimits", "decode"]  # DecodeLimits lives with the ts checks, in timestamps

_KINDS: Final = {kind.value: kind for kind in DeviceKind}
_KIND_NAMES: Final = ", ".join(sorted([*_KINDS, topics.VENUE]))
_MESSAGE_TYPES: Final = {
    kind: frozenset(
        {MessageType.STATUS, MessageType.AVAILABILITY}
        | ({MessageType.READING} if kind in specs.READING else set())
        | ({MessageType.EVENT} if EVENTS[kind] else set())
    )
    for kind in DeviceKind
}
_Head = tuple[datetime, datetime, str, DeviceKind, str, str, str, str, int]
"""ts, received_at, device_id, kind, venue_id, community, grid, station_id, seq."""


def decode(
    topic: str,
    payload: bytes,
    received_at: datetime,
    registry: RegistryView,
    limits: DecodeLimits,
) -> Decoded | Rejected:
    """The record a message carries, enriched from the registry, or why it is rejected.

    >>> from datetime import UTC
    >>> from firewatch.ingest.records import DeviceInfo, StaticRegistry
    >>> registry = StaticRegistry(
    ...     [DeviceInfo("S-1", DeviceKind.SMOKE, "V-1", "Xinhua", "G-03", "MS-1", heartbeat_s=60)]
    ... )
    >>> now = datetime(2025, 5, 1, 4, 0, 1, tzinfo=UTC)
    >>> limits = DecodeLimits(max_future_s=300, max_age_s=7 * 86400)
    >>> body = b'{"ts": "2025-05-01T12:00:00+08:00", "seq": 7, "smoke_obs": 0.4, "alarm": false}'
    >>> reading = decode("fw/v1/smoke/S-1/reading", body, now, registry, limits)
    >>> reading.ts.isoformat(), reading.smoke_obs, reading.alarm, reading.grid
    ('2025-05-01T04:00:00+00:00', 0.4, False, 'G-03')
    >>> body = b'{"ts": 1746072000000, "seq": 8, "smoke_obs": 500.0, "alarm": true}'
    >>> rejected = decode("fw/v1/smoke/S-1/reading", body, now, registry, limits)
    >>> rejected.reason, rejected.detail
    (<RejectReason.OUT_OF_RANGE: 'out_of_range'>, 'smoke_obs: 500.0 is outside 0..100 %/m')
    >>> decode("fw/v1/smoke/S-9/availability", b"online", now, registry, limits).reason
    <RejectReason.UNKNOWN_DEVICE: 'unknown_device'>
    """
    if received_at.tzinfo is None:
        raise ValueError("decode: received_at must be timezone-aware")
    outcome = _decode(topic, payload, received_at, registry, limits)
    if isinstance(outcome, Problem):
        return Rejected(topic, payload, received_at, outcome.reason, outcome.detail)
    return outcome


def _decode(
    topic: str,
    payload: bytes,
    received_at: datetime,
    registry: RegistryView,
    limits: DecodeLimits,
) -> Decoded | Problem:
    parts = topics.parse(topic)
    if parts is None:
        return Problem(
            RejectReason.TOPIC_MALFORMED,
            f"topic: {show(topic)} is not {topics.PREFIX}/{{kind}}/{{id}}/{{type}}",
        )
    if parts.message_type == MessageType.SET:
        # A device never publishes on `set`: what arrives there is a command, most likely an
        # engine's own (the subscription should leave them out, see ingest/README.md).
        return Problem(
            RejectReason.UNEXPECTED_COMMAND,
            f"topic: {show(topic)} carries commands to a device, not data from it",
        )
    if parts.kind == topics.VENUE:
        return _scan(parts, payload, received_at, registry, limits)
    kind = _device_topic(topic, parts)
    if isinstance(kind, Problem):
        return kind
    return _device_message(
        parts, kind, payload, received_at=received_at, registry=registry, limits=limits
    )


def _device_topic(topic: str, parts: topics.Topic) -> DeviceKind | Problem:
    kind = _KINDS.get(parts.kind)
    if kind is None:
        ours = topics.parse_engine(topic)
        if ours is not None:  # availability, heartbeat
            return Problem(
                RejectReason.ENGINE_TOPIC,
                f"topic: {show(topic)} is an engine's own {ours.message_type}, not device data",
            )
        return Problem(
            RejectReason.UNKNOWN_KIND,
            f"topic: kind {show(parts.kind)} is not one of {_KIND_NAMES}",
        )
    if not parts.valid_id:
        return Problem(
            RejectReason.BAD_DEVICE_ID,
            f"topic: device id {show(parts.subject_id)} does not match [A-Za-z0-9_-]{{1,64}}",
        )
    if parts.message_type not in _MESSAGE_TYPES[kind]:
        return Problem(
            RejectReason.UNKNOWN_MESSAGE_TYPE,
            f"topic: {kind} devices send no {show(parts.message_type)}, "
            f"only {', '.join(sorted(_MESSAGE_TYPES[kind]))}",
        )
    return kind


def _registered(registry: RegistryView, device_id: str, kind: DeviceKind) -> DeviceInfo | Problem:
    device = registry.device(device_id)
    if device is None:
        return Problem(
            RejectReason.UNKNOWN_DEVICE, f"topic: device {device_id} is not in the registry"
        )
    if device.kind != kind:
        return Problem(
            RejectReason.KIND_MISMATCH,
            f"topic: device {device_id} is registered as {device.kind}, not {kind}",
        )
    return device


def _device_message(
    parts: topics.Topic,
    kind: DeviceKind,
    payload: bytes,
    *,
    received_at: datetime,
    registry: RegistryView,
    limits: DecodeLimits,
) -> Decoded | Problem:
    device = _registered(registry, parts.subject_id, kind)
    if isinstance(device, Problem):
        return device
    if parts.message_type == MessageType.AVAILABILITY:
        return _availability(device, kind, payload, received_at)
    loaded = envelope(payload, "device_id", device.device_id, received_at, limits)
    if isinstance(loaded, Problem):
        return loaded
    obj, ts, seq = loaded
    head: _Head = (ts, received_at, *_enrichment(device, kind), seq)
    values: dict[str, Any] = {}
    if parts.message_type == MessageType.READING:
        problem = take(obj, specs.READING[kind], values)
        extra = unlisted(obj, specs.READING_KEYS[kind])
        return problem or Reading(*head, extra=extra, **values)
    if parts.message_type == MessageType.EVENT:
        return _event(obj, kind, head)
    problem = take(obj, specs.STATUS, values)
    return problem or DeviceStatus(*head, extra=unlisted(obj, specs.STATUS_KEYS), **values)


def _enrichment(device: DeviceInfo, kind: DeviceKind) -> tuple[str, DeviceKind, str, str, str, str]:
    """The record's identity columns; `kind` is the topic's (equal to the registry's)."""
    return (
        device.device_id, kind, device.venue_id, device.community, device.grid,
        device.station_id,
    )  # fmt: skip


def _availability(
    device: DeviceInfo, kind: DeviceKind, payload: bytes, received_at: datetime
) -> Availability | Problem:
    online = availability(payload)
    if isinstance(online, Problem):
        return online
    return Availability(received_at, *_enrichment(device, kind), online)


def _event(obj: dict[str, Any], kind: DeviceKind, head: _Head) -> DeviceEvent | Problem:
    raw = obj.get("event")
    if raw is None:
        return missing(obj, "event")
    event = specs.EVENT_NAME[kind]("event", raw)
    if isinstance(event, Problem):
        return event
    values: dict[str, Any] = {}
    problem = take(obj, specs.EVENT[kind][event], values)
    extra = unlisted(obj, specs.EVENT_KEYS[kind])
    return problem or DeviceEvent(*head, event, extra=extra, **values)


def _scan(
    parts: topics.Topic,
    payload: bytes,
    received_at: datetime,
    registry: RegistryView,
    limits: DecodeLimits,
) -> VenueScan | Problem:
    if not parts.is_scan:
        return Problem(
            RejectReason.UNKNOWN_MESSAGE_TYPE,
            f"topic: venues send no {show(parts.message_type)}, only {MessageType.SCAN}",
        )
    venue_id = parts.subject_id
    if not parts.valid_id:
        return Problem(
            RejectReason.BAD_VENUE_ID,
            f"topic: venue id {show(venue_id)} does not match [A-Za-z0-9_-]{{1,64}}",
        )
    venue = registry.venue(venue_id)
    if venue is None:
        return Problem(
            RejectReason.UNKNOWN_VENUE, f"topic: venue {venue_id} is not in the registry"
        )
    loaded = envelope(payload, "venue_id", venue_id, received_at, limits)
    if isinstance(loaded, Problem):
        return loaded
    obj, ts, seq = loaded
    values: dict[str, Any] = {}
    problem = take_scan(obj, values)
    return problem or VenueScan(
        ts, received_at, venue_id, venue.community, venue.grid, venue.station_id, seq,
        extra=unlisted(obj, SCAN_KEYS), **values,
    )  # fmt: skip
