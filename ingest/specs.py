"""Which fields each kind and message type carries (CONTRACT.md section 1), as check tables.

A field listed here is checked wherever it appears in a message of that kind and type; a field
not listed is kept in `extra`. "Required" follows the contract: where it has a `required`
column, that; where it marks a field optional ("optional for mains devices"), optional; a field
it lists with neither is required.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Final

from ingest.fields import Spec, boolean, choice, integer, number, text
from ingest.reasons import RejectReason
from kernel.contract import CHARGING_STATES, EVENTS, DeviceKind

COMMON_KEYS: Final = frozenset({"ts", "seq", "device_id"})
"""Checked by the decoder itself for every reading, event and status."""

READING: Final[dict[DeviceKind, tuple[Spec, ...]]] = {
    DeviceKind.SMOKE: (
        Spec("smoke_obs", "smoke_obs", number("smoke_obs"), required=True),
        Spec("alarm", "alarm", boolean, required=True),
        Spec("temp_c", "temp_c", number("temp_c"), required=False),
        Spec("co_ppm", "co_ppm", number("co_ppm"), required=False),
        Spec("humidity_pct", "humidity_pct", number("humidity_pct"), required=False),
    ),
    DeviceKind.CHARGING: (
        Spec("port", "port", integer("port"), required=True),
        Spec("state", "state", choice(CHARGING_STATES, RejectReason.UNKNOWN_STATE), True),
        Spec("current_a", "current_a", number("current_a"), required=True),
        Spec("voltage_v", "voltage_v", number("voltage_v"), required=True),
        Spec("power_w", "power_w", number("power_w"), required=True),
        Spec("temp_c", "temp_c", number("temp_c"), required=False),
        Spec("energy_wh", "energy_wh", number("energy_wh"), required=False),
        Spec("co_ppm", "co_ppm", number("co_ppm"), required=False),
        Spec("h2_ppm", "h2_ppm", number("h2_ppm"), required=False),
        Spec("voc_ppm", "voc_ppm", number("voc_ppm"), required=False),
    ),
    DeviceKind.OCCUPANCY: (
        Spec("occupied", "occupied", boolean, required=True),
        Spec("people", "people", integer("people"), required=True),
        Spec("still_minutes", "still_minutes", integer("still_minutes"), required=True),
    ),
    # elevator cameras send events only
}

STATUS: Final = (
    Spec("battery_pct", "battery_pct", number("battery_pct"), required=False),
    Spec("rssi_dbm", "rssi_dbm", number("rssi_dbm"), required=True),
    Spec("fw", "fw", text, required=True),
)

# Every field an event of the kind may carry (all optional here), then which events require which.
_EVENT_FIELDS: Final[dict[DeviceKind, tuple[Spec, ...]]] = {
    DeviceKind.SMOKE: (),
    DeviceKind.CHARGING: (
        Spec("port", "port", integer("port"), required=False),
        Spec("confidence", "confidence", number("confidence"), required=False),
        Spec("id", "command_id", text, required=False),
    ),
    DeviceKind.ELEVATOR: (
        Spec("car", "car", text, required=False),
        Spec("floor", "floor", integer("floor"), required=False),
        Spec("confidence", "confidence", number("confidence"), required=False),
        Spec("blocked", "blocked", boolean, required=False),
    ),
    DeviceKind.OCCUPANCY: (),
}
_EVENT_REQUIRES: Final[dict[str, frozenset[str]]] = {
    "charge_started": frozenset({"port"}),
    "charge_completed": frozenset({"port"}),
    "overcurrent": frozenset({"port"}),
    "overtemp": frozenset({"port"}),
    "short_circuit": frozenset({"port"}),
    "ebike_load_detected": frozenset({"port", "confidence"}),
    "power_off": frozenset({"port", "id"}),  # `id`: the command it answers
    "ebike_detected": frozenset({"car", "floor", "confidence", "blocked"}),
    "ebike_left": frozenset({"car"}),
}
"""Events not named here (smoke's) carry no field but `event`."""

EVENT: Final[dict[DeviceKind, dict[str, tuple[Spec, ...]]]] = {
    kind: {
        name: tuple(
            replace(spec, required=spec.key in _EVENT_REQUIRES.get(name, frozenset()))
            for spec in _EVENT_FIELDS[kind]
        )
        for name in names
    }
    for kind, names in EVENTS.items()
}
"""kind -> event name -> its field checks."""

EVENT_NAME: Final = {
    kind: choice(names, RejectReason.UNKNOWN_EVENT) for kind, names in EVENTS.items()
}

READING_KEYS: Final = {
    kind: COMMON_KEYS | {spec.key for spec in specs} for kind, specs in READING.items()
}
EVENT_KEYS: Final = {
    kind: COMMON_KEYS | {"event"} | {spec.key for spec in specs}
    for kind, specs in _EVENT_FIELDS.items()
}
STATUS_KEYS: Final = COMMON_KEYS | {spec.key for spec in STATUS}
