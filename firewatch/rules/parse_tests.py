"""The `tests:` of a rule: an input sequence and the hits expected, as in Prometheus rule tests.

    tests:
      - name: a fast rise fires once
        venue_type: small_restaurant          # optional: the venue's type
        start: "2026-05-01T23:00:00+08:00"    # optional: when `at: 0` is
        input:
          - {at: 0, device: SMK-1, every: 5s, repeat: 13, reading: {temp_c: 20}, step: {temp_c: 1}}
          - {at: 70, device: SMK-1, event: alarm}
          - {at: 0, venue: V-1, scan: {exits_unlocked: false, gas_safe: true}}
          - {at: 30, device: SMK-2, offline: silent}
        expect:
          - {at: 60, subject: SMK-1}

`at` is seconds (or a duration) after the start; every input's device is of the rule's kind
unless it says `kind:`, and in venue `V-1` unless it says `venue:`.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Final

from firewatch.kernel.contract import SCAN_TYPES, DeviceKind, Level, VenueType
from firewatch.rules.conditions import (
    EVENT_FIELDS,
    FIELD_TYPES,
    NUMBER,
    READING_FIELDS,
    STATUS_FIELDS,
)
from firewatch.rules.spec import ExpectedHit, Match, RuleTest, Source, TestInput, Value
from firewatch.rules.yamlnodes import Fields, Node

DEFAULT_START: Final = "2026-05-01T10:00:00+08:00"
DEFAULT_VENUE: Final = "V-1"
_OFFLINE_REASONS: Final = ("silent", "never_seen", "last_will")
_SOURCE_KEYS: Final = ("reading", "event", "status", "offline", "scan")
_EVENT_EXTRA: Final = ("port", "car", "floor", "confidence", "blocked", "command_id")


def _kind(item: Fields, match: Match) -> DeviceKind:
    node = item.get("kind")
    if node is not None:
        name = node.text()
        if name not in {k.value for k in DeviceKind}:
            node.fail(f"{name!r} is not a device kind")
        return DeviceKind(name)
    if len(match.kinds) != 1:
        item.node.fail("kind is missing (the rule listens to several kinds)")
    return next(iter(match.kinds))


def _values(node: Node, allowed: frozenset[str]) -> list[tuple[str, Value | None]]:
    out = []
    for name, value in node.mapping().items():
        if name not in allowed:
            value.fail(f"{name} is not a field of this message ({', '.join(sorted(allowed))})")
        out.append((name, value.scalar()))
    return out


def _scan(item: Fields, body: Node, at: float, venue: str) -> TestInput:
    type_node = item.get("scan_type")
    scan_type = type_node.text() if type_node is not None else "inspection"
    if type_node is not None and scan_type not in SCAN_TYPES:
        type_node.fail(f"{scan_type!r} is not a scan type")
    items = tuple((name, v.boolean()) for name, v in body.mapping().items())
    return TestInput(at, Source.SCAN, venue, None, venue, scan_type=scan_type, items=items)


def _event_fields(item: Fields, kind: DeviceKind) -> list[tuple[str, Value | None]]:
    fields: list[tuple[str, Value | None]] = []
    for name in _EVENT_EXTRA:
        extra = item.get(name)
        if extra is not None:
            if name not in EVENT_FIELDS[kind.value]:
                extra.fail(f"{name} is not a field of {kind} events")
            fields.append((name, extra.scalar()))
    return fields


def _device(
    item: Fields, source: Source, body: Node, kind: DeviceKind
) -> tuple[list[tuple[str, Value | None]], str, str]:
    """(fields, event, offline reason) of a device's input."""
    if source is Source.READING:
        return _values(body, READING_FIELDS.get(kind.value, frozenset())), "", ""
    if source is Source.STATUS:
        return _values(body, STATUS_FIELDS), "", ""
    if source is Source.OFFLINE:
        reason = body.text()
        if reason not in _OFFLINE_REASONS:
            body.fail(f"{reason!r} is not one of {', '.join(_OFFLINE_REASONS)}")
        return [], "", reason
    return _event_fields(item, kind), body.text(), ""


def _steps(node: Node | None, fields: list[tuple[str, Value | None]]) -> list[tuple[str, float]]:
    if node is None:
        return []
    out = []
    for name, step in _values(node, frozenset(n for n, _ in fields)):
        if FIELD_TYPES.get(name) != NUMBER or not isinstance(step, float):
            node.fail(f"{name} must be a number field with a number step")
        out.append((name, step))
    return out


def _inputs(node: Node, match: Match) -> list[TestInput]:
    item = Fields(node)
    at = item.need("at").duration(positive=False)
    which = [k for k in _SOURCE_KEYS if item.has(k)]
    if len(which) != 1:
        node.fail(f"give exactly one of {', '.join(_SOURCE_KEYS)}")
    source, body = Source(which[0]), item.need(which[0])
    venue_node = item.get("venue")
    venue = venue_node.text() if venue_node is not None else DEFAULT_VENUE
    every_node, repeat_node = item.get("every"), item.get("repeat")
    every = every_node.duration() if every_node is not None else 0.0
    repeat = repeat_node.integer(minimum=1) if repeat_node is not None else 1
    if source is Source.SCAN:
        first = _scan(item, body, at, venue)
        item.done()
        return [replace(first, at=at + n * every) for n in range(repeat)]
    device = item.need("device").text()
    kind = _kind(item, match)
    fields, event, reason = _device(item, source, body, kind)
    steps = _steps(item.get("step"), fields)
    item.done()
    out = []
    for n in range(repeat):
        moved = dict(fields)
        for name, step in steps:
            base = moved[name]
            if isinstance(base, float):
                moved[name] = round(base + n * step, 6)
        out.append(TestInput(at + n * every, source, device, kind, venue, tuple(moved.items()),
                             event, reason))  # fmt: skip
    return out


def _expect(node: Node) -> ExpectedHit:
    item = Fields(node)
    at = item.need("at").duration(positive=False)
    subject = item.need("subject").text()
    level_node, hazard_node = item.get("level"), item.get("hazard")
    level = None
    if level_node is not None:
        if level_node.text() not in {lv.value for lv in Level}:
            level_node.fail(f"{level_node.text()!r} is not a level")
        level = Level(level_node.text())
    hazard = hazard_node.text() if hazard_node is not None else None
    item.done()
    return ExpectedHit(at, subject, level, hazard)


def _test(node: Node, match: Match) -> RuleTest:
    fields = Fields(node)
    name = fields.need("name").text()
    start_node = fields.get("start")
    start = start_node.raw() if start_node is not None else DEFAULT_START
    try:
        when = datetime.fromisoformat(start)
    except ValueError:
        start_node.fail(f"{start!r} is not an ISO 8601 time")  # type: ignore[union-attr]
    if when.tzinfo is None:
        start_node.fail(f"{start!r} needs an offset, e.g. +08:00")  # type: ignore[union-attr]
    type_node = fields.get("venue_type")
    venue_type = type_node.text() if type_node is not None else None
    if venue_type is not None and venue_type not in {t.value for t in VenueType}:
        type_node.fail(f"{venue_type!r} is not a venue type")  # type: ignore[union-attr]
    beat_node = fields.get("heartbeat_s")
    heartbeat = beat_node.integer(minimum=1) if beat_node is not None else 60
    inputs = [i for n in fields.need("input").sequence() for i in _inputs(n, match)]
    expect = [_expect(n) for n in fields.need("expect").sequence()]
    fields.done()
    return RuleTest(name, node.line, start, venue_type, heartbeat, tuple(inputs), tuple(expect))


def parse_tests(node: Node, match: Match) -> tuple[RuleTest, ...]:
    tests = tuple(_test(n, match) for n in node.sequence())
    if not tests:
        node.fail("tests is empty: give at least one test, or leave the key out")
    return tests
