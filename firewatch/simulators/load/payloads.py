"""Contract payloads for load, pre-encoded: a few bodies per kind, filled with `ts` and `seq`.

Each device sends a fixed cycle of 20 messages: readings mostly, one event and one status per
cycle (lift cameras have no readings in the contract, so they send events instead; presence
sensors have no events, so they send readings instead). The message type of any `seq` is a pure
function of the device kind, so a benchmark can compute exactly which rows a run must produce.
Every kind of the contract has its bodies here (a quiet kitchen's gas detector included).

>>> message_type_for(DeviceKind.SMOKE, 0), message_type_for(DeviceKind.SMOKE, 19)
(<MessageType.READING: 'reading'>, <MessageType.STATUS: 'status'>)
>>> import json
>>> json.loads(payload(DeviceKind.SMOKE, 3, epoch_ms_bytes(1_700_000_000_000), 0))["seq"]
3
>>> rfc3339_bytes(1_700_000_000_123)
b'"2023-11-15T06:13:20.123+08:00"'
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Final

from firewatch.kernel.contract import DeviceKind, MessageType

KINDS: Final = tuple(DeviceKind)
"""Device kinds in a fixed order: a kind's index here is its index in the count tables."""

TYPES: Final = (MessageType.READING, MessageType.EVENT, MessageType.STATUS)
"""The message types the load generator publishes, in count-table order."""

CYCLE_LENGTH: Final = 20
_EVENT_AT: Final = 9
_STATUS_AT: Final = CYCLE_LENGTH - 1
DEVICE_TZ: Final = timezone(timedelta(hours=8))
"""Devices that send RFC 3339 timestamps use China Standard Time, as installers set them."""


def _smoke_readings() -> tuple[bytes, ...]:
    return tuple(
        b'"smoke_obs":%.2f,"temp_c":%.1f,"co_ppm":%d,"humidity_pct":%d,"alarm":false'
        % (0.01 * (i % 4), 20.0 + 0.5 * i, i % 3, 40 + 2 * i)
        for i in range(12)
    )


def _charging_readings() -> tuple[bytes, ...]:
    bodies = []
    for i in range(12):
        port = i % 8 + 1
        if i % 4 == 3:
            bodies.append(
                b'"port":%d,"state":"idle","current_a":0,"voltage_v":%d,"power_w":0,"temp_c":%.1f'
                % (port, 220 + i % 3, 24.0 + 0.3 * i)
            )
            continue
        current = 1.8 + 0.1 * i
        voltage = 48.0 + 0.5 * (i % 5)
        bodies.append(
            b'"port":%d,"state":"charging","current_a":%.1f,"voltage_v":%.1f,"power_w":%.1f,'
            b'"temp_c":%.1f,"energy_wh":%d'
            % (port, current, voltage, current * voltage, 29.0 + 0.4 * i, 40 * i)
        )
    return tuple(bodies)


def _gas_readings() -> tuple[bytes, ...]:
    """A quiet kitchen, 0-3 % LEL and no alarm, at a detector wired to an open shut-off valve."""
    return tuple(b'"lel_pct":%.1f,"alarm":false,"valve":"open"' % (0.4 * i) for i in range(8))


def _occupancy_readings() -> tuple[bytes, ...]:
    return tuple(
        b'"occupied":%s,"people":%d,"still_minutes":%d'
        % ((b"true", i % 3, 5 * (i % 2)) if i % 3 else (b"false", 0, 0))
        for i in range(6)
    )


def _statuses(battery: bool) -> tuple[bytes, ...]:
    return tuple(
        (b'"battery_pct":%d,' % (96 - 3 * i) if battery else b"")
        + b'"rssi_dbm":%d,"fw":"2.%d.1"' % (-60 - 4 * i, i % 3)
        for i in range(6)
    )


BODIES: Final[dict[DeviceKind, tuple[tuple[bytes, ...], tuple[bytes, ...], tuple[bytes, ...]]]] = {
    DeviceKind.SMOKE: (_smoke_readings(), (b'"event":"test"',), _statuses(battery=True)),
    DeviceKind.CHARGING: (
        _charging_readings(),
        (b'"event":"charge_started","port":2', b'"event":"charge_completed","port":2'),
        _statuses(battery=False),
    ),
    DeviceKind.ELEVATOR: (
        (),
        (
            b'"event":"ebike_detected","car":"A","floor":1,"confidence":0.91,"blocked":true',
            b'"event":"ebike_left","car":"A"',
        ),
        _statuses(battery=False),
    ),
    DeviceKind.OCCUPANCY: (_occupancy_readings(), (), _statuses(battery=True)),
    # `alarm_cleared` is the benign gas event: it clears nothing where nothing alarmed.
    DeviceKind.GAS: (_gas_readings(), (b'"event":"alarm_cleared"',), _statuses(battery=False)),
}
"""Per kind, per message type (TYPES order): the bodies a device's messages cycle through."""


def _cycle(kind: DeviceKind) -> tuple[int, ...]:
    reading, event, status = 0, 1, 2
    readings, events, _ = BODIES[kind]
    default = reading if readings else event
    return tuple(
        status if i == _STATUS_AT else event if (i == _EVENT_AT and events) else default
        for i in range(CYCLE_LENGTH)
    )


CYCLES: Final = {kind: _cycle(kind) for kind in KINDS}
"""For each kind, the index into TYPES of the message sent at `seq % CYCLE_LENGTH`."""


def message_type_for(kind: DeviceKind, seq: int) -> MessageType:
    """Which topic the message with this `seq` of a device of this kind goes to."""
    return TYPES[CYCLES[kind][seq % CYCLE_LENGTH]]


TEMPLATE: Final = b'{"ts":%b,"seq":%d,%b}'


def epoch_ms_bytes(epoch_ms: int) -> bytes:
    return b"%d" % epoch_ms


def rfc3339_bytes(epoch_ms: int) -> bytes:
    """A quoted RFC 3339 timestamp with milliseconds and the +08:00 offset."""
    moment = datetime.fromtimestamp(epoch_ms // 1000, UTC).astimezone(DEVICE_TZ)
    return b'"%s.%03d+08:00"' % (moment.strftime("%Y-%m-%dT%H:%M:%S").encode(), epoch_ms % 1000)


def payload(kind: DeviceKind, seq: int, ts: bytes, variant: int) -> bytes:
    """The payload of message `seq` of a device of `kind`; `variant` picks among the bodies."""
    bodies = BODIES[kind][CYCLES[kind][seq % CYCLE_LENGTH]]
    return TEMPLATE % (ts, seq, bodies[(seq + variant) % len(bodies)])
