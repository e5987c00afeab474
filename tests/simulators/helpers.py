"""Shared helpers of the simulator tests: a fixed start, the registry view, traffic filters."""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime
from functools import cache
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from firewatch.ingest.decode import DecodeLimits
from firewatch.ingest.records import DeviceInfo, StaticRegistry, VenueInfo
from firewatch.kernel import topics
from firewatch.simulators.records import GroundTruth, Message
from firewatch.simulators.scenarios import LIBRARY, Run, compose
from firewatch.simulators.subdistrict import Subdistrict, generate

START = datetime(2026, 5, 1, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
LIMITS = DecodeLimits(max_future_s=300, max_age_s=7 * 86400)  # the engine's defaults


@cache
def world(seed: int = 1) -> Subdistrict:
    return generate(seed)


def generate_world(seed: int) -> Subdistrict:
    """A freshly generated subdistrict (not the cached one), for determinism tests."""
    return generate(seed)


@cache
def run(names: tuple[str, ...] = tuple(LIBRARY), seed: int = 1) -> Run:
    return compose(list(names), world(1), seed=seed, start=START)


def registry_view(sub: Subdistrict) -> StaticRegistry:
    """The generated registry as the ingest decoder sees it."""
    venues = {v.venue_id: v for v in sub.venues}
    devices = [
        DeviceInfo(
            d.device_id,
            d.kind,
            d.venue_id,
            venues[d.venue_id].community,
            venues[d.venue_id].grid,
            venues[d.venue_id].station_id,
            d.heartbeat_s,
        )
        for d in sub.devices
    ]
    return StaticRegistry(
        devices, [VenueInfo(v.venue_id, v.community, v.grid, v.station_id) for v in sub.venues]
    )


def clear_retained(broker: tuple[str, int], retained: list[str]) -> None:
    """Remove retained messages a test left on the shared broker (an empty retained payload)."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"t-clear-{secrets.token_hex(3)}")
    client.connect(*broker)
    client.loop_start()
    try:
        for topic in retained:
            client.publish(topic, b"", qos=1, retain=True).wait_for_publish(5)
    finally:
        client.disconnect()
        client.loop_stop()


def truth(r: Run, name: str) -> GroundTruth:
    return next(t for t in r.truths if t.scenario == name)


def of_device(r: Run, device_id: str, message_type: str | None = None) -> list[Message]:
    out = []
    for m in r.messages:
        parts = topics.parse(m.topic)
        if parts is None or parts.subject_id != device_id:
            continue
        if message_type is None or parts.message_type == message_type:
            out.append(m)
    return out


def since(t: GroundTruth, m: Message) -> float:
    """Seconds from the truth's onset to the message."""
    return (m.at - t.onset).total_seconds()


def events(r: Run, device_id: str) -> list[tuple[Message, dict[str, Any]]]:
    return [(m, json.loads(m.payload)) for m in of_device(r, device_id, "event")]


def readings(r: Run, device_id: str) -> list[tuple[Message, dict[str, Any]]]:
    return [(m, json.loads(m.payload)) for m in of_device(r, device_id, "reading")]


def statuses(r: Run, device_id: str) -> list[tuple[Message, dict[str, Any]]]:
    return [(m, json.loads(m.payload)) for m in of_device(r, device_id, "status")]
