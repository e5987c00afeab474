"""Field checks of the field contract (CONTRACT.md section 1): types, units, physical bounds.

A check returns the field's value (numbers as float, integers as int) or a `Problem` naming the
field and the bad value; it never raises. `BOUNDS` is what is physically possible (declared
in `kernel.kinds`); `ingest.specs` says which fields each kind and message type carries.

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

from firewatch.ingest.reasons import RejectReason
from firewatch.kernel.kinds import FIELDS


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


BOUNDS: Final[dict[str, Bound]] = {
    name: Bound(f.lo, f.hi, f.unit)
    for name, f in FIELDS.items()
    if f.lo is not None and f.hi is not None
}
"""What each bounded field can physically hold (declared, with the why, in `kernel.kinds`)."""

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
