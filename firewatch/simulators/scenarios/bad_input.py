"""Messages that break the field contract, each with the reason code ingest must reject it with.

The codes are the stable values of `ingest.reasons.RejectReason` (stored, served by the API and
used as metric labels, never renamed), written here as plain strings so that the simulators do
not depend on the ingest stage. Every message has exactly one fault; everything else about it is
valid for the subdistrict it was made for, so the expected reason is the only possible one.
The faults are the ones real fleets produce: firmware that writes local time as UTC, a clock
reset to 2000 after a battery swap, epoch seconds instead of milliseconds, a NaN from a dead
sensor, a typo in an event name, a mis-provisioned device id.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from firewatch.kernel import topics
from firewatch.kernel.contract import DeviceKind
from firewatch.simulators.devices.base import EPOCH, LOCAL, MS, encode
from firewatch.simulators.records import Message
from firewatch.simulators.subdistrict import Subdistrict


@dataclass(frozen=True, slots=True)
class BadInput:
    message: Message
    reason: str  # an `ingest.reasons.RejectReason` value
    why: str


def _first(world: Subdistrict, kind: DeviceKind) -> str:
    return next(d.device_id for d in world.devices if d.kind == kind)


def bad_inputs(world: Subdistrict, now: datetime) -> tuple[BadInput, ...]:
    """One message per fault, timed `now` (decode them as received at `now`)."""
    return tuple(_cases(world, now))


def _cases(world: Subdistrict, now: datetime) -> Iterator[BadInput]:  # noqa: PLR0915 - a table
    smk, chg = _first(world, DeviceKind.SMOKE), _first(world, DeviceKind.CHARGING)
    elv, gas = _first(world, DeviceKind.ELEVATOR), _first(world, DeviceKind.GAS)
    venue = world.venues[0].venue_id
    ts = now.astimezone(LOCAL).isoformat(timespec="milliseconds")
    good: dict[str, Any] = {"ts": ts, "seq": 1, "smoke_obs": 0.4, "temp_c": 24.1, "alarm": False}
    port: dict[str, Any] = {"ts": ts, "seq": 1, "port": 2, "state": "charging",
                            "current_a": 0.8, "voltage_v": 221.0, "power_w": 176.0}  # fmt: skip
    items = [{"item": "exits_unlocked", "ok": True}]
    scan: dict[str, Any] = {"ts": ts, "seq": 1, "scan_type": "inspection",
                            "inspector": "INSP-0001", "items": items}  # fmt: skip
    reading, event = topics.reading(DeviceKind.SMOKE, smk), topics.event(DeviceKind.SMOKE, smk)
    status = topics.status(DeviceKind.SMOKE, smk)

    def bad(topic: str, payload: bytes | dict[str, Any], reason: str, why: str) -> BadInput:
        raw = payload if isinstance(payload, bytes) else encode(payload)
        return BadInput(Message(now, topic, raw), reason, why)

    # The topic.
    yield bad(
        reading.replace("fw/v1", "fw/v2", 1), good, "topic_malformed", "a newer topic version"
    )
    yield bad(reading.rsplit("/", 1)[0], good, "topic_malformed", "no message type level")
    yield bad(
        topics.engine_availability("p0"), b"online", "engine_topic", "an engine's own availability"
    )
    command = {"port": 2, "power": "off", "reason": "overtemp", "id": "cmd-1"}
    yield bad(
        topics.command(DeviceKind.CHARGING, chg),
        command,
        "unexpected_command",
        "a command seen by ingest",
    )
    yield bad(
        topics.device("sprinkler", smk, "reading"),
        good,
        "unknown_kind",
        "a sprinkler kind not in the contract",
    )
    yield bad(
        topics.reading(DeviceKind.SMOKE, "SMK V0001"),
        good,
        "bad_device_id",
        "a space in the device id",
    )
    yield bad(topics.scan("V 0001"), scan, "bad_venue_id", "a space in the venue id")
    yield bad(
        topics.reading(DeviceKind.ELEVATOR, elv),
        good,
        "unknown_message_type",
        "lift cameras send no readings",
    )
    # The registry.
    yield bad(
        topics.reading(DeviceKind.SMOKE, "SMK-V9999-99"), good, "unknown_device", "never registered"
    )
    yield bad(
        topics.reading(DeviceKind.CHARGING, smk),
        port,
        "kind_mismatch",
        "a smoke detector on a charging topic",
    )
    yield bad(topics.scan("V9999"), scan, "unknown_venue", "a venue that is not registered")
    # The payload as bytes and JSON.
    yield bad(reading, good | {"debug": "x" * 4200}, "payload_too_large", "a debug dump over 4 KiB")
    yield bad(
        reading, encode(good).replace(b'"alarm"', b'"\xffalarm"'), "invalid_utf8", "a corrupt byte"
    )
    yield bad(reading, encode(good)[:-9], "invalid_json", "cut off in transit")
    yield bad(
        reading, encode(good).replace(b"0.4", b"NaN"), "non_finite_number", "a dead sensor's NaN"
    )
    yield bad(
        status,
        {"ts": ts, "seq": 1, "rssi_dbm": -80.0, "fw": "SD-2.4.1\x00"},
        "nul_character",
        "a C string terminator",
    )
    yield bad(reading, b"[0.4, false]", "not_an_object", "an array instead of an object")
    yield bad(
        reading,
        encode(good)[:-1] + b', "diag": ' + b"[" * 600 + b"]" * 600 + b"}",
        "too_deep",
        "a firmware bug nesting its diagnostics 600 levels deep",
    )
    yield bad(
        topics.availability(DeviceKind.SMOKE, smk),
        b"maybe",
        "bad_availability",
        "neither online nor offline",
    )
    # The fields.
    yield bad(
        reading,
        good | {"device_id": "SMK-OTHER"},
        "device_id_mismatch",
        "the payload names another device",
    )
    yield bad(
        topics.scan(venue),
        scan | {"venue_id": "V0000"},
        "venue_id_mismatch",
        "the payload names another venue",
    )
    yield bad(
        reading,
        {k: v for k, v in good.items() if k != "smoke_obs"},
        "missing_field",
        "no smoke_obs",
    )
    yield bad(reading, {k: v for k, v in good.items() if k != "seq"}, "missing_field", "no seq")
    rectification = scan | {"scan_type": "rectification"}
    yield bad(
        topics.scan(venue), rectification, "missing_field", "a rectification without its case_id"
    )
    answer = {"ts": ts, "seq": 1, "event": "power_off", "port": 2}
    yield bad(
        topics.event(DeviceKind.CHARGING, chg),
        answer,
        "missing_field",
        "power_off without the command id",
    )
    closed = {"ts": ts, "seq": 1, "event": "valve_closed"}
    yield bad(
        topics.event(DeviceKind.GAS, gas),
        closed,
        "missing_field",
        "valve_closed without the command id",
    )
    ride = {
        "ts": ts,
        "seq": 1,
        "event": "ebike_detected",
        "car": "1号梯",
        "confidence": 0.9,
        "blocked": True,
    }
    yield bad(
        topics.event(DeviceKind.ELEVATOR, elv),
        ride,
        "missing_field",
        "ebike_detected without floor",
    )
    yield bad(reading, good | {"alarm": "false"}, "wrong_type", "a boolean sent as a string")
    yield bad(reading, good | {"seq": 3.0}, "wrong_type", "seq as a float")
    yield bad(reading, good | {"smoke_obs": 500.0}, "out_of_range", "500 %/m obscuration")
    yield bad(reading, good | {"humidity_pct": 120.0}, "out_of_range", "humidity over 100 %")
    kitchen: dict[str, Any] = {"ts": ts, "seq": 1, "lel_pct": 1.2, "alarm": False, "valve": "open"}
    yield bad(
        topics.reading(DeviceKind.GAS, gas),
        kitchen | {"lel_pct": 140.0},
        "out_of_range",
        "140 % LEL: a saturated cell's overflow",
    )
    yield bad(reading, good | {"seq": -1}, "out_of_range", "a negative seq")
    no_offset = now.astimezone(LOCAL).strftime("%Y-%m-%d %H:%M:%S")
    yield bad(reading, good | {"ts": no_offset}, "bad_timestamp", "local time without an offset")
    as_utc = now.astimezone(LOCAL).strftime("%Y-%m-%dT%H:%M:%SZ")
    yield bad(reading, good | {"ts": as_utc}, "ts_in_future", "local time labelled UTC: 8 h ahead")
    yield bad(
        reading, good | {"ts": "2000-01-01T00:00:05+08:00"}, "ts_too_old", "clock reset to 2000"
    )
    seconds = (now - EPOCH) // MS // 1000
    yield bad(
        reading, good | {"ts": seconds}, "ts_too_old", "epoch seconds instead of milliseconds"
    )
    alarm = {"ts": ts, "seq": 1, "event": "explode"}
    yield bad(event, alarm, "unknown_event", "an event name not in the contract")
    yield bad(
        topics.reading(DeviceKind.CHARGING, chg),
        port | {"state": "boiling"},
        "unknown_state",
        "a charging state not in the contract",
    )
    yield bad(
        topics.reading(DeviceKind.GAS, gas),
        kitchen | {"valve": "half"},
        "unknown_state",
        "a valve state not in the contract",
    )
    yield bad(
        topics.scan(venue),
        scan | {"scan_type": "audit"},
        "unknown_scan_type",
        "a scan type not in the contract",
    )
