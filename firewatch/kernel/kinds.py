"""Device kinds, each declared once: the fields it sends, their bounds, its events, its command.

Everything a stage needs to know about a kind is read from here — ingest's field checks and
COPY columns, the rules' condition vocabulary, alerting's criteria and actuation, the models'
evidence fields, the dashboards' hourly rollups. Adding a kind is one `Kind` in `KINDS` (plus
its record attributes in `ingest/records.py`, a migration for its columns, a rule file and a
simulator model; `tests/test_kinds.py` checks the declaration and those agree).

A `Field` is what a value can physically be (its type, unit, bounds); a `Use` is a kind's
message carrying it (required or not, under which record attribute).

>>> KINDS[DeviceKind.GAS].command.payload("CMD-1", "LEL 40 %", None)
{'valve': 'close', 'reason': 'LEL 40 %', 'id': 'CMD-1'}
>>> reading_columns()[-2:]
('lel_pct', 'valve')
>>> FIELDS["lel_pct"].hi, FIELDS["lel_pct"].unit
(100, '%LEL')
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Final

from firewatch.kernel.contract import CHARGING_STATES, DeviceKind


class FieldType(StrEnum):
    NUMBER = "number"  # a JSON number, stored as real
    INTEGER = "integer"  # a JSON integer written without fraction or exponent
    BOOLEAN = "boolean"
    CHOICE = "choice"  # one of `Field.values`
    TEXT = "text"  # a non-empty string


class Rollup(StrEnum):
    """How a reading field is kept in the hourly rollups (`reading_hourly`)."""

    MAX = "max"  # `{column}_max`
    MEAN = "mean"  # `{column}_sum` and `{column}_n`, the mean being their ratio
    MEAN_MAX = "mean_max"  # both
    COUNT_TRUE = "count_true"  # `{column}_n`: how many readings had it true


@dataclass(frozen=True, slots=True)
class Field:
    """A value the contract lists, wherever it appears."""

    name: str
    type: FieldType
    unit: str = ""
    lo: float | None = None
    hi: float | None = None
    values: frozenset[str] = frozenset()  # CHOICE only
    criterion: str | None = None
    """What alerting calls the thing it senses (`smoke`, `heat`, `gas`, `lel`): two different
    criteria in one alert corroborate each other."""


def _n(name: str, lo: float, hi: float, unit: str = "", criterion: str | None = None) -> Field:
    return Field(name, FieldType.NUMBER, unit, lo, hi, criterion=criterion)


def _i(name: str, lo: float, hi: float, unit: str = "") -> Field:
    return Field(name, FieldType.INTEGER, unit, lo, hi)


# What a field can physically hold. A value outside is a fault of the sensor or the firmware, and
# the whole message is rejected (CONTRACT.md: "a listed field with ... an impossible value is a
# rejection") — so a bound errs on the wide side: a reading rejected in a real fire is a reading
# the rules never see, while a wide bound only lets a faulty value through to them.
FIELDS: Final[dict[str, Field]] = {
    f.name: f
    for f in (
        # Light lost over one metre: 100 % is all of it. The NIST flaming tests' smoke meters
        # (shared/data) peak at 2.5-4.4; read as optical density per metre, the usual unit of
        # that database, that is 99.7-99.996 %/m: real fires reach the physical bound.
        _n("smoke_obs", 0, 100, "%/m", "smoke"),
        # -60: colder than any inhabited place in China (record -53 °C at Mohe). 1200: above the
        # hottest real fire surface we know of — runaway 18650 cells reach 915-1,080 °C (UL
        # FSRI, shared/data), post-flashover room gas ~1,000-1,100 °C, NIST ceiling
        # thermocouples 570-770 °C. Smoke detectors share it: their thermistors die at
        # 150-300 °C, but a dying detector's last readings still carry `alarm: true` and must
        # reach the rules. 5,000 °C is rejected.
        _n("temp_c", -60, 1200, "°C", "heat"),
        # Gas concentrations: 1,000,000 ppm is the whole gas. Li-ion vent gas is itself tens of
        # per cent CO and H2, so near a venting pack no lower bound is physically safe.
        _n("co_ppm", 0, 1_000_000, "ppm", "co"),
        _n("h2_ppm", 0, 1_000_000, "ppm", "gas"),
        _n("voc_ppm", 0, 1_000_000, "ppm", "gas"),
        # Relative humidity is a percentage of saturation.
        _n("humidity_pct", 0, 100, "%"),
        # A charging port is a 10-16 A socket (GB 2099) behind a 16-63 A breaker; a sustained
        # 100 A through it is a metering fault. A short circuit arrives as its own event.
        _n("current_a", 0, 100, "A", "current"),
        # 48-72 V packs, 220 V mains (311 V peak); 1,000 V is the low-voltage limit (IEC
        # 60038): no charging circuit in a building is above it.
        _n("voltage_v", 0, 1000, "V"),
        # The current and voltage bounds multiplied: 100 kW.
        _n("power_w", 0, 100_000, "W", "current"),
        # One charge at the power bound for ten hours; an e-bike pack holds 0.5-2 kWh.
        _n("energy_wh", 0, 1_000_000, "Wh"),
        # Port numbers are small; 65,535 keeps them in the integer column and a firmware's u16.
        _i("port", 0, 65_535),
        # People in one room seen by one presence sensor; mmWave sensors track a few dozen.
        _i("people", 0, 1000),
        # Minutes without movement: a year is beyond any counter a sensor keeps without reset.
        _i("still_minutes", 0, 525_600, "min"),
        # Per cent of the lower explosive limit: 100 % LEL is an explosive mixture; a catalytic
        # or infrared cell saturates there (GB 15322.1 detectors measure 0-100 % LEL).
        _n("lel_pct", 0, 100, "%LEL", "lel"),
        # A charge level in per cent.
        _n("battery_pct", 0, 100, "%"),
        # Received power: NB-IoT works down to about -140 dBm; nothing received is above 0 dBm.
        _n("rssi_dbm", -150, 0, "dBm"),
        # A probability.
        _n("confidence", 0, 1),
        # Floors: Shanghai Tower has 128 above ground; no basement goes below -10.
        _i("floor", -10, 200),
        # The message counter: non-negative, and it must fit the bigint column.
        _i("seq", 0, 2**63 - 1),
        Field("alarm", FieldType.BOOLEAN),
        Field("occupied", FieldType.BOOLEAN),
        Field("blocked", FieldType.BOOLEAN),
        Field("state", FieldType.CHOICE, values=CHARGING_STATES),
        Field("valve", FieldType.CHOICE, values=frozenset({"open", "closed"})),
        Field("car", FieldType.TEXT),
        Field("id", FieldType.TEXT),
        Field("fw", FieldType.TEXT),
    )
}
"""Every field the contract lists, by its JSON key."""


@dataclass(frozen=True, slots=True)
class Use:
    """A field as one kind's message carries it."""

    key: str  # the JSON key, a key of FIELDS
    required: bool = False
    column: str = ""  # the record attribute and table column; the key when empty
    rollup: Rollup | None = None  # readings only

    @property
    def attr(self) -> str:
        return self.column or self.key

    @property
    def field(self) -> Field:
        return FIELDS[self.key]


def need(key: str, rollup: Rollup | None = None) -> Use:
    return Use(key, True, rollup=rollup)


def may(key: str, rollup: Rollup | None = None, column: str = "") -> Use:
    return Use(key, False, column, rollup)


@dataclass(frozen=True, slots=True)
class Command:
    """What the engine may command a device of this kind (CONTRACT.md `.../set`), and the
    event that answers it carrying the command's `id`."""

    action: Mapping[str, str]  # e.g. {"valve": "close"}
    answer: str  # the event name of the device's answer
    target: str | None = None  # the field naming which part (`port`), or None: the whole device
    label: str = ""  # what it does, for people (zh-CN)

    def payload(self, command_id: str, reason: str, target: int | None) -> dict[str, Any]:
        """The command's JSON object; `target` is the value of `self.target` (the port)."""
        head = {} if self.target is None else {self.target: target}
        return {**head, **self.action, "reason": reason, "id": command_id}


@dataclass(frozen=True, slots=True)
class Kind:
    """One device kind of the contract, declared once."""

    kind: DeviceKind
    label: str  # zh-CN, for people
    reading: tuple[Use, ...] = ()
    event_fields: tuple[Use, ...] = ()
    events: Mapping[str, frozenset[str]] = field(default_factory=dict)
    """Event name -> the event fields (keys) it requires; the others are optional."""
    command: Command | None = None
    evidence: tuple[str, ...] = ()
    """Reading attributes the models cite as evidence when they score this kind (none: the
    models do not score it)."""

    def check_order(self) -> tuple[Use, ...]:
        """The reading's fields, required first: the first missing one is the one reported."""
        return tuple(u for u in self.reading if u.required) + tuple(
            u for u in self.reading if not u.required
        )


_ID = may("id", column="command_id")

KINDS: Final[dict[DeviceKind, Kind]] = {
    k.kind: k
    for k in (
        Kind(
            DeviceKind.SMOKE,
            "烟感",
            reading=(
                need("smoke_obs", Rollup.MAX),
                may("temp_c", Rollup.MEAN_MAX),
                may("co_ppm", Rollup.MAX),
                may("humidity_pct", Rollup.MEAN),
                need("alarm", Rollup.COUNT_TRUE),
            ),
            events=dict.fromkeys(
                ("alarm", "alarm_cleared", "silenced", "test", "fault", "tamper", "low_battery"),
                frozenset(),
            ),
            evidence=("smoke_obs", "temp_c", "co_ppm", "humidity_pct"),
        ),
        Kind(
            DeviceKind.CHARGING,
            "充电桩",
            reading=(
                need("port"),
                need("state"),
                need("current_a", Rollup.MAX),
                need("voltage_v"),
                need("power_w", Rollup.MEAN_MAX),
                may("temp_c", Rollup.MEAN_MAX),
                may("energy_wh", Rollup.MAX),
                may("co_ppm", Rollup.MAX),
                may("h2_ppm", Rollup.MAX),
                may("voc_ppm", Rollup.MAX),
            ),
            event_fields=(may("port"), may("confidence"), _ID),
            events={
                "charge_started": frozenset({"port"}),
                "charge_completed": frozenset({"port"}),
                "overcurrent": frozenset({"port"}),
                "overtemp": frozenset({"port"}),
                "short_circuit": frozenset({"port"}),
                "ebike_load_detected": frozenset({"port", "confidence"}),
                "power_off": frozenset({"port", "id"}),
            },
            command=Command({"power": "off"}, "power_off", target="port", label="切断充电口电源"),
            evidence=("temp_c", "power_w", "voc_ppm", "co_ppm", "h2_ppm"),
        ),
        Kind(
            DeviceKind.ELEVATOR,
            "电梯摄像头",
            event_fields=(may("car"), may("floor"), may("confidence"), may("blocked")),
            events={
                "ebike_detected": frozenset({"car", "floor", "confidence", "blocked"}),
                "ebike_left": frozenset({"car"}),
            },
        ),
        Kind(
            DeviceKind.OCCUPANCY,
            "人员感知",
            reading=(
                need("occupied", Rollup.COUNT_TRUE),
                need("people", Rollup.MAX),
                need("still_minutes", Rollup.MAX),
            ),
        ),
        Kind(
            DeviceKind.GAS,
            "可燃气体探测器",
            reading=(need("lel_pct", Rollup.MAX), need("alarm"), may("valve")),
            event_fields=(may("lel_pct"), _ID),
            events={
                "alarm": frozenset({"lel_pct"}),
                "alarm_cleared": frozenset(),
                "fault": frozenset(),
                "low_battery": frozenset(),
                "valve_closed": frozenset({"id"}),
                "valve_opened": frozenset(),
            },
            command=Command({"valve": "close"}, "valve_closed", label="关闭燃气紧急切断阀"),
        ),
    )
}
"""Every device kind of the contract (CONTRACT.md section 1)."""

EVENTS: Final[dict[DeviceKind, frozenset[str]]] = {
    kind: frozenset(k.events) for kind, k in KINDS.items()
}
"""Event names each kind may send on its `event` topic."""

STATUS: Final = (may("battery_pct"), need("rssi_dbm"), need("fw"))
"""The heartbeat every kind sends."""


def _union(uses: Iterable[Use]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(u.attr for u in uses))


def reading_columns() -> tuple[str, ...]:
    """Every kind's reading attributes, in declaration order (the `reading` table's metrics)."""
    return _union(u for k in KINDS.values() for u in k.reading)


def event_columns() -> tuple[str, ...]:
    """Every kind's event attributes (the `device_event` table's, besides `event`)."""
    return _union(u for k in KINDS.values() for u in k.event_fields)


def status_columns() -> tuple[str, ...]:
    return _union(STATUS)


def rollups() -> dict[str, Rollup]:
    """Reading attribute -> how the hourly rollups keep it (first declaration wins)."""
    out: dict[str, Rollup] = {}
    for k in KINDS.values():
        for u in k.reading:
            if u.rollup is not None:
                out.setdefault(u.attr, u.rollup)
    return out


def criteria() -> dict[str, str]:
    """Record attribute -> the criterion it senses, for alerting."""
    return {
        u.attr: u.field.criterion
        for k in KINDS.values()
        for u in (*k.reading, *k.event_fields)
        if u.field.criterion is not None
    }
