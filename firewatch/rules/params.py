"""The parameters of a rule (and of each venue-type override), read and checked per type.

A rule of each type accepts only its own keys; an override accepts the same keys and keeps the
rule's value for every key it does not name. Conditions read `temp_c >= 57`, a list of such
terms (all must hold) or `{any: [...]}`; coincidence criteria may also be a rise,
`{rise: temp_c, by: 10, within: 3m}`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Final

from firewatch.kernel.contract import Level
from firewatch.rules.conditions import FIELD_TYPES, NUMBER, parse_condition
from firewatch.rules.errors import ConditionError
from firewatch.rules.evidence import Scope
from firewatch.rules.spec import Condition, Criterion, Params, Rise, RuleType, Source, TimeWindow
from firewatch.rules.yamlnodes import Fields, Node

_OWN: Final[dict[RuleType, tuple[str, ...]]] = {
    RuleType.THRESHOLD: ("when",),
    RuleType.RATE_OF_RISE: ("when", "field", "rate_per_min", "window", "min_span", "max_samples"),
    RuleType.PERSISTENCE: ("when", "held"),
    RuleType.UNCHANGED: ("when", "fields", "held"),
    RuleType.COINCIDENCE: ("when", "criteria", "need", "within"),
    RuleType.COUNT: ("when", "count", "within"),
    RuleType.ABSENCE: ("heartbeats", "last_will"),
    RuleType.SCAN_FAILED: (),
}
_REQUIRED: Final[dict[RuleType, tuple[str, ...]]] = {
    RuleType.RATE_OF_RISE: ("field", "rate_per_min", "window"),
    RuleType.PERSISTENCE: ("when", "held"),
    RuleType.UNCHANGED: ("fields", "held"),
    RuleType.COINCIDENCE: ("need", "within"),
    RuleType.COUNT: ("count", "within"),
}
_COMMON: Final = ("level", "enabled", "during", "cooldown")


def condition(node: Node, allowed: frozenset[str]) -> Condition:
    """`term`, `[term, ...]` (all of them) or `{any: [...]}` / `{all: [...]}`."""
    any_of = False
    terms: list[str]
    if node.is_mapping():
        pair = node.mapping()
        if len(pair) != 1 or not set(pair) <= {"any", "all"}:
            node.fail("expected a term, a list of terms, or {any: [...]} / {all: [...]}")
        ((mode, inner),) = pair.items()
        any_of, terms = mode == "any", [t.raw() for t in inner.sequence()]
    elif node.is_sequence():
        terms = [t.raw() for t in node.sequence()]
    else:
        terms = [node.raw()]
    try:
        return parse_condition(terms, allowed, any_of)
    except ConditionError as exc:
        node.fail(str(exc))


def numeric_field(node: Node, allowed: frozenset[str]) -> str:
    name = node.text()
    if name not in allowed or FIELD_TYPES.get(name) != NUMBER:
        known = ", ".join(sorted(f for f in allowed if FIELD_TYPES.get(f) == NUMBER))
        node.fail(f"{name!r} is not a number field of these messages ({known})")
    return name


def _criterion(node: Node, allowed: frozenset[str]) -> Criterion:
    if node.is_mapping() and "rise" in node.mapping():
        fields = Fields(node)
        rise = Rise(
            numeric_field(fields.need("rise"), allowed),
            fields.need("by").number(),
            fields.need("within").duration(),
        )
        fields.done()
        if rise.by <= 0:
            node.fail("by must be above zero")
        return rise
    return condition(node, allowed)


def _clock(node: Node) -> int:
    text = node.raw().strip()
    hours, sep, minutes = text.partition(":")
    if not (sep and hours.isdigit() and minutes.isdigit()):
        node.fail(f"expected a local time HH:MM, got {text!r}")
    value = int(hours) * 60 + int(minutes)
    if int(hours) > 24 or int(minutes) > 59 or value > 24 * 60:
        node.fail(f"{text!r} is not a time of day")
    return value


def _during(node: Node) -> TimeWindow:
    fields = Fields(node)
    window = TimeWindow(_clock(fields.need("from")), _clock(fields.need("to")))
    fields.done()
    if window.start_min == window.end_min:
        node.fail("from and to are the same time: leave `during` out for the whole day")
    return window


def _positive(node: Node) -> float:
    value = node.number()
    if value <= 0:
        node.fail(f"expected a number above zero, got {value:g}")
    return value


def _level(node: Node, _allowed: frozenset[str]) -> Level:
    text = node.text()
    if text not in {lv.value for lv in Level}:
        node.fail(f"{text!r} is not a level ({', '.join(lv.value for lv in Level)})")
    return Level(text)


def _count(minimum: int) -> Reader:
    return lambda node, _allowed: node.integer(minimum=minimum)


def _plain(read: Callable[[Node], Any]) -> Reader:
    return lambda node, _allowed: read(node)


Reader = Callable[[Node, frozenset[str]], Any]

_READERS: Final[dict[str, tuple[str, Reader]]] = {
    "level": ("level", _level),
    "enabled": ("enabled", _plain(Node.boolean)),
    "during": ("during", _plain(_during)),
    "cooldown": ("cooldown_s", _plain(Node.duration)),
    "when": ("when", condition),
    "field": ("field", numeric_field),
    "fields": (
        "fields",
        lambda node, allowed: tuple(numeric_field(n, allowed) for n in node.sequence()),
    ),
    "rate_per_min": ("rate_per_min", _plain(_positive)),
    "window": ("window_s", _plain(Node.duration)),
    "within": ("window_s", _plain(Node.duration)),
    "min_span": ("min_span_s", _plain(Node.duration)),
    "max_samples": ("max_samples", _count(2)),
    "held": ("held_s", _plain(Node.duration)),
    "criteria": (
        "criteria",
        lambda node, allowed: tuple(_criterion(n, allowed) for n in node.sequence()),
    ),
    "need": ("need", _count(1)),
    "count": ("count", _count(1)),
    "heartbeats": ("heartbeats", _count(1)),
    "last_will": ("last_will", _plain(Node.boolean)),
}


@dataclass(frozen=True, slots=True)
class Shape:
    """What decides which parameters a rule takes: its type, scope and messages."""

    rule_type: RuleType
    scope: Scope
    source: Source
    allowed: frozenset[str]  # the fields its conditions may name


def read_params(fields: Fields, shape: Shape, base: Params | None) -> Params:
    """The rule's parameters (`base` None) or an override of `base` (its mapping is closed)."""
    rule_type, scope, source, allowed = shape.rule_type, shape.scope, shape.source, shape.allowed
    keys = (*_COMMON, *_OWN[rule_type])
    values: dict[str, Any] = {}
    for key in keys:
        node = fields.get(key)
        if node is not None:
            name, read = _READERS[key]
            values[name] = read(node, allowed)
    if base is None:
        for key in ("level", *_REQUIRED.get(rule_type, ())):
            fields.need(key)
        per_message = rule_type in (RuleType.THRESHOLD, RuleType.COUNT) or (
            rule_type is RuleType.COINCIDENCE and scope is Scope.VENUE
        )
        if per_message and source in (Source.READING, Source.STATUS):
            fields.need("when")  # every reading would match
        params = Params(**values)
        if rule_type is RuleType.RATE_OF_RISE and "min_span_s" not in values:
            params = replace(params, min_span_s=params.window_s / 3)
        return params
    fields.done()
    if not values:
        fields.node.fail("an override must change something (level, enabled or a parameter)")
    return replace(base, **values)
