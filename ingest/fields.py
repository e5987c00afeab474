"""Field checks of the field contract (CONTRACT.md section 1): types, units, physical bounds.

A check returns the field's value (numbers as float, integers as int) or a `Problem` naming the
field and the bad value; it never raises. `BOUNDS` is the one table of what is physically
possible; `ingest.specs` says which fields each kind and message type carries.

>>> number("smoke_obs")("smoke_obs", 500.0).detail
'smoke_obs: 500.0 is outside 0..100 %/m'
>>> integer("seq")("seq", 3.0).detail
'seq: expected an integer, got 3.0'
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any, Final

import orjson

from ingest.reasons import RejectReason


@dataclass(frozen=True, slots=True)
class Problem:
    """Why a message is rejected, before the decoder wraps it into a `Rejected` record."""

    reason: RejectReason
    detail: str


@dataclass(frozen=True, slots=True)
class Bound:
    lo: float
    hi: float
    unit: str

    def text(self) -> str:
        unit = f" {self.unit}" if self.unit else ""
        return f"{_number(self.lo)}..{_number(self.hi)}{unit}"


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


# What a field can physically hold. A value outside is a fault of the sensor or the firmware, and
# the whole message is rejected (CONTRACT.md: "a listed field with ... an impossible value is a
# rejection") — so a bound errs on the wide side: a reading rejected in a real fire is a reading
# the rules never see, while a wide bound only lets a faulty value through to them.
BOUNDS: Final[dict[str, Bound]] = {
    # Light lost over one metre: 100 % is all of it. The NIST flaming tests' smoke meters
    # (shared/data) peak at 2.5-4.4; read as optical density per metre, the usual unit of that
    # database, that is 99.7-99.996 %/m: real fires reach the physical bound, so it is the bound.
    "smoke_obs": Bound(0, 100, "%/m"),
    # -60: colder than any inhabited place in China (record -53 °C at Mohe). 1200: above the
    # hottest real fire surface we know of — runaway 18650 cells reach 915-1,080 °C (UL FSRI,
    # shared/data), post-flashover room gas ~1,000-1,100 °C, NIST ceiling thermocouples 570-770 °C.
    # Smoke detectors share it: their thermistors die at 150-300 °C, but a dying detector's
    # last readings still carry `alarm: true` and must reach the rules. 5,000 °C is rejected.
    "temp_c": Bound(-60, 1200, "°C"),
    # Gas concentrations: 1,000,000 ppm is the whole gas. Li-ion vent gas is itself tens of
    # per cent CO and H2, so near a venting pack no lower bound is physically safe.
    "co_ppm": Bound(0, 1_000_000, "ppm"),
    "h2_ppm": Bound(0, 1_000_000, "ppm"),
    "voc_ppm": Bound(0, 1_000_000, "ppm"),
    # Relative humidity is a percentage of saturation.
    "humidity_pct": Bound(0, 100, "%"),
    # A charging port is a 10-16 A socket (GB 2099) behind a 16-63 A breaker; a sustained 100 A
    # through it is a metering fault. A short circuit arrives as the `short_circuit` event.
    "current_a": Bound(0, 100, "A"),
    # 48-72 V packs, 220 V mains (311 V peak); 1,000 V is the low-voltage limit (IEC 60038):
    # no charging circuit in a building is above it.
    "voltage_v": Bound(0, 1000, "V"),
    # The current and voltage bounds multiplied: 100 kW.
    "power_w": Bound(0, 100_000, "W"),
    # One charge at the power bound for ten hours; an e-bike pack holds 0.5-2 kWh.
    "energy_wh": Bound(0, 1_000_000, "Wh"),
    # Port numbers are small; 65,535 keeps them in the integer column and a firmware's uint16.
    "port": Bound(0, 65_535, ""),
    # People in one room seen by one presence sensor; mmWave sensors track a few dozen at most.
    "people": Bound(0, 1000, ""),
    # Minutes without movement: a year is beyond any counter a sensor keeps without a reset.
    "still_minutes": Bound(0, 525_600, "min"),
    # A charge level in per cent.
    "battery_pct": Bound(0, 100, "%"),
    # Received power: NB-IoT works down to about -140 dBm; nothing received is above 0 dBm (1 mW).
    "rssi_dbm": Bound(-150, 0, "dBm"),
    # A probability.
    "confidence": Bound(0, 1, ""),
    # Floors: Shanghai Tower has 128 above ground; no basement goes below -10.
    "floor": Bound(-10, 200, ""),
    # The message counter: non-negative, and it must fit the bigint column.
    "seq": Bound(0, 2**63 - 1, ""),
}

Check = Callable[[str, Any], Any]
"""(field name, raw JSON value) -> the value, or a `Problem`."""

_SHOW_MAX: Final = 60


def show(value: object) -> str:
    """A raw value as the sender wrote it (JSON), cut to a readable length."""
    try:
        text = orjson.dumps(value).decode()
    except TypeError:
        text = repr(value)
    return text if len(text) <= _SHOW_MAX else f"{text[: _SHOW_MAX - 1]}…"


def wrong_type(key: str, expected: str, raw: object) -> Problem:
    return Problem(RejectReason.WRONG_TYPE, f"{key}: expected {expected}, got {show(raw)}")


_REAL_TINY: Final = 1.1754943508222875e-38
"""The smallest normal magnitude of a `real` (float4), the store's type for measurements."""


def number(name: str) -> Check:
    """A JSON number (not a boolean) within `BOUNDS[name]`, as a float.

    A magnitude below what a `real` holds is read as 0: PostgreSQL would refuse the whole
    message for it (underflow), and no sensor resolves anything that small.

    >>> number("temp_c")("temp_c", 5e-324), number("temp_c")("temp_c", -2.5e-40)
    (0.0, 0.0)
    """
    bound = BOUNDS[name]
    lo, hi = bound.lo, bound.hi

    def check(key: str, raw: Any) -> Any:
        kind = type(raw)
        if kind is float:
            value = raw
        elif kind is int:
            value = float(raw)
        else:
            return wrong_type(key, "a number", raw)
        if lo <= value <= hi:
            return value if not -_REAL_TINY < value < _REAL_TINY else 0.0
        return Problem(RejectReason.OUT_OF_RANGE, f"{key}: {show(raw)} is outside {bound.text()}")

    return check


def integer(name: str) -> Check:
    """A JSON integer written without a fraction or exponent (`3.0` is not one), in bounds."""
    bound = BOUNDS[name]
    lo, hi = bound.lo, bound.hi

    def check(key: str, raw: Any) -> Any:
        if type(raw) is not int:
            return wrong_type(key, "an integer", raw)
        if lo <= raw <= hi:
            return raw
        return Problem(RejectReason.OUT_OF_RANGE, f"{key}: {show(raw)} is outside {bound.text()}")

    return check


def boolean(key: str, raw: Any) -> Any:
    """`true` or `false` (not 0, 1 or "true")."""
    if type(raw) is bool:
        return raw
    return wrong_type(key, "true or false", raw)


def text(key: str, raw: Any) -> Any:
    """A non-empty string (an empty one names nothing and counts as missing)."""
    if type(raw) is not str:
        return wrong_type(key, "a string", raw)
    if not raw:
        return Problem(RejectReason.MISSING_FIELD, f"{key}: is an empty string")
    return raw


def any_text(key: str, raw: Any) -> Any:
    """A string, possibly empty (free text such as a checklist note)."""
    if type(raw) is str:
        return raw
    return wrong_type(key, "a string", raw)


def choice(values: Collection[str], reason: RejectReason) -> Check:
    """One of the contract's names for this field; another name is rejected with `reason`."""
    listed = ", ".join(sorted(values)) or "none"

    def check(key: str, raw: Any) -> Any:
        if type(raw) is not str:
            return wrong_type(key, "a string", raw)
        if raw in values:
            return raw
        return Problem(reason, f"{key}: {show(raw)} is not one of {listed}")

    return check


@dataclass(frozen=True, slots=True)
class Spec:
    """One listed field: its JSON key, the record attribute it fills, its check."""

    key: str
    column: str
    check: Check
    required: bool


def take(
    obj: dict[str, Any], specs: tuple[Spec, ...], values: dict[str, Any], prefix: str = ""
) -> Problem | None:
    """Check `specs` in `obj` into `values` (by column); a null optional field counts as absent.

    `prefix` names where `obj` sits in the payload (`items[2].`) in a problem's detail.
    """
    for spec in specs:
        raw = obj.get(spec.key)
        if raw is None:
            if spec.required:
                return missing(obj, spec.key, label=prefix + spec.key)
            continue
        value = spec.check(prefix + spec.key if prefix else spec.key, raw)
        if type(value) is Problem:
            return value
        values[spec.column] = value
    return None


def missing(obj: dict[str, Any], key: str, why: str = "", *, label: str = "") -> Problem:
    """A required field is absent or null; `label` names it in the detail if not `key`."""
    state = "is null" if key in obj else "is missing"
    return Problem(RejectReason.MISSING_FIELD, f"{label or key}: {state}{why}")


def unlisted(obj: dict[str, Any], listed: frozenset[str]) -> dict[str, Any]:
    """The fields the contract does not list, kept with the record as `extra`."""
    if listed.issuperset(obj):  # the usual case, three times faster than the comprehension
        return {}
    return {key: value for key, value in obj.items() if key not in listed}
