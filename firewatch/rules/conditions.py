"""Conditions as a fire-safety officer writes them (`temp_c >= 57`), checked and compiled.

Each field is checked against what the contract says the listened-to message carries, and the
value against the field's type; the compiled predicate is a closure over the record attribute,
false when the field is absent (a detector without a CO cell never satisfies `co_ppm >= 50`).

>>> cond = parse_condition(["state == charging", "temp_c >= 60"], READING_FIELDS["charging"])
>>> str(cond)
'state == charging and temp_c >= 60'
>>> from types import SimpleNamespace as R
>>> check = compile_condition(cond)
>>> check(R(state="charging", temp_c=61.0)), check(R(state="charging", temp_c=None))
(True, False)
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

from firewatch.ingest import specs
from firewatch.kernel.contract import DeviceKind
from firewatch.kernel.kinds import KINDS, FieldType
from firewatch.kernel.kinds import STATUS as STATUS_USES
from firewatch.rules.errors import ConditionError
from firewatch.rules.spec import Comparison, Condition, Op, Source, Value

Predicate = Callable[[Any], bool]

NUMBER: Final = "number"
FLAG: Final = "true or false"
TEXT: Final = "text"

_TYPES: Final = {
    FieldType.NUMBER: NUMBER, FieldType.INTEGER: NUMBER, FieldType.BOOLEAN: FLAG,
    FieldType.CHOICE: TEXT, FieldType.TEXT: TEXT,
}  # fmt: skip
_USES: Final = (
    tuple(use for k in KINDS.values() for use in (*k.reading, *k.event_fields)) + STATUS_USES
)
FIELD_TYPES: Final[dict[str, str]] = {
    "event": TEXT,
    **{use.attr: _TYPES[use.field.type] for use in _USES},
}
"""Every field a condition may name (`kernel.kinds`), by record attribute, with its type."""

READING_FIELDS: Final[dict[str, frozenset[str]]] = {
    kind.value: frozenset(spec.column for spec in fields) for kind, fields in specs.READING.items()
}
EVENT_FIELDS: Final[dict[str, frozenset[str]]] = {
    kind.value: frozenset(
        {"event"} | {spec.column for by_name in specs.EVENT[kind].values() for spec in by_name}
    )
    for kind in DeviceKind
}
STATUS_FIELDS: Final = frozenset(spec.column for spec in specs.STATUS)
TEXT_VALUES: Final[dict[str, frozenset[str]]] = {
    use.attr: use.field.values for use in _USES if use.field.type is FieldType.CHOICE
}

_TERM: Final = re.compile(r"^\s*([a-z][a-z0-9_]*)\s*(>=|<=|==|!=|>|<)\s*(.+?)\s*$")
_NUMBER: Final = re.compile(r"^-?[0-9]+(\.[0-9]+)?$")


def fields_for(source: Source, kinds: frozenset[DeviceKind]) -> frozenset[str]:
    """The fields a condition may name for messages of `source` from devices of `kinds`."""
    chosen = kinds or frozenset(DeviceKind)
    if source is Source.READING:
        return frozenset().union(*(READING_FIELDS.get(k.value, frozenset()) for k in chosen))
    if source is Source.EVENT:
        return frozenset().union(*(EVENT_FIELDS[k.value] for k in chosen))
    if source is Source.STATUS:
        return STATUS_FIELDS
    return frozenset()


def _value(text: str) -> Value:
    if text in ("true", "false"):
        return text == "true"
    if _NUMBER.match(text):
        return float(text)
    return text.strip("'\"")


def parse_term(text: str, allowed: frozenset[str]) -> Comparison:
    found = _TERM.match(text)
    if found is None:
        raise ConditionError(f"{text!r} is not of the form `field op value` (op: >= > <= < == !=)")
    name, op, raw = found.groups()
    if name not in allowed:
        known = ", ".join(sorted(allowed)) or "none"
        raise ConditionError(f"{name} is not a field of these messages (fields: {known})")
    value, kind = _value(raw), FIELD_TYPES[name]
    if kind == NUMBER and (isinstance(value, bool) or not isinstance(value, float)):
        raise ConditionError(f"{name} is a number, {raw!r} is not")
    if kind == FLAG and (not isinstance(value, bool) or op not in ("==", "!=")):
        raise ConditionError(f"{name} is true or false: compare it with == true or == false")
    if kind == TEXT:
        if not isinstance(value, str) or op not in ("==", "!="):
            raise ConditionError(f"{name} is text: compare it with == or !=")
        choices = TEXT_VALUES.get(name)
        if choices is not None and value not in choices:
            raise ConditionError(f"{name} is one of {', '.join(sorted(choices))}, not {value!r}")
    return Comparison(name, Op(op), value)


def parse_condition(
    terms: Sequence[str], allowed: frozenset[str], any_of: bool = False
) -> Condition:
    return Condition(tuple(parse_term(t, allowed) for t in terms), any_of)


_COMPARE: Final[dict[Op, Callable[[Any, Any], bool]]] = {
    Op.NE: operator.ne,
    Op.GT: operator.gt,
    Op.LE: operator.le,
    Op.LT: operator.lt,
}


def _term(c: Comparison) -> Predicate:
    name, x = c.field, c.value
    if isinstance(x, bool):
        want = x if c.op is Op.EQ else not x
        return lambda r: getattr(r, name) is want
    if c.op is Op.EQ:
        return lambda r: getattr(r, name) == x
    if c.op is Op.GE:  # the common case, without a second call
        return lambda r: (v := getattr(r, name)) is not None and v >= x
    compare = _COMPARE[c.op]
    return lambda r: (v := getattr(r, name)) is not None and compare(v, x)


def _always(_record: Any) -> bool:
    return True


def compile_condition(cond: Condition) -> Predicate:
    checks = [_term(t) for t in cond.terms]
    if not checks:
        return _always
    if len(checks) == 1:
        return checks[0]
    if len(checks) == 2:  # the common case, without a generator
        a, b = checks
        return (lambda r: a(r) or b(r)) if cond.any_of else (lambda r: a(r) and b(r))
    if cond.any_of:
        return lambda r: any(check(r) for check in checks)
    return lambda r: all(check(r) for check in checks)


def deciding(cond: Condition, record: Any) -> tuple[str, Value | None]:
    """The field that decided a condition and its value, for the evidence: the last term of
    an all-of (`state == charging and temp_c >= 60` -> temp_c), the first true one of an any-of."""
    if not cond.terms:
        return "event", getattr(record, "event", None)
    terms = cond.terms
    term = next((t for t in terms if _term(t)(record)), terms[0]) if cond.any_of else terms[-1]
    return term.field, getattr(record, term.field, None)


UNITS: Final[Mapping[str, str]] = {
    use.attr: f" {use.field.unit}" for use in _USES if use.field.unit
}
