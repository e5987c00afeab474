"""One rule of a rule file, from its YAML node to a checked `RuleSpec`.

Every rule says what it listens to (`match`), what it finds (`type` and its parameters), what that
is (`category`, `level`, `hazard`) and whom it speaks of (`scope`); `overrides` change any
parameter for a venue type. See rules/README.md for the keys of each type.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Final

from firewatch.kernel.contract import SCAN_TYPES, DeviceKind, Level, VenueType
from firewatch.kernel.kinds import EVENTS
from firewatch.rules.conditions import fields_for
from firewatch.rules.evidence import Category, Scope
from firewatch.rules.params import Shape, read_params
from firewatch.rules.parse_tests import parse_tests
from firewatch.rules.spec import Match, Params, RuleSpec, RuleType, Source, Where
from firewatch.rules.yamlnodes import Fields, Node

_ID: Final = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
_SOURCES: Final[dict[RuleType, frozenset[Source]]] = {
    RuleType.THRESHOLD: frozenset({Source.READING, Source.EVENT, Source.STATUS}),
    RuleType.RATE_OF_RISE: frozenset({Source.READING, Source.STATUS}),
    RuleType.PERSISTENCE: frozenset({Source.READING, Source.STATUS}),
    RuleType.UNCHANGED: frozenset({Source.READING}),
    RuleType.COINCIDENCE: frozenset({Source.READING, Source.EVENT}),
    RuleType.COUNT: frozenset({Source.READING, Source.EVENT}),
    RuleType.ABSENCE: frozenset({Source.OFFLINE}),
    RuleType.SCAN_FAILED: frozenset({Source.SCAN}),
}
_SCOPES: Final[dict[RuleType, frozenset[Scope]]] = {
    **{t: frozenset({Scope.DEVICE}) for t in RuleType},
    RuleType.COINCIDENCE: frozenset({Scope.DEVICE, Scope.VENUE}),
    RuleType.COUNT: frozenset(Scope),
    RuleType.SCAN_FAILED: frozenset({Scope.VENUE}),
}
_HAZARD: Final = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


def _choice(node: Node, allowed: type[Level] | type[Category] | type[Scope] | type[RuleType]
            | type[Source]) -> str:  # fmt: skip
    text = node.text()
    if text not in {m.value for m in allowed}:
        node.fail(f"{text!r} is not one of: {', '.join(m.value for m in allowed)}")
    return text


def _kinds(node: Node | None) -> frozenset[DeviceKind]:
    if node is None:
        return frozenset()
    out = set()
    for name in node.words():
        if name not in {k.value for k in DeviceKind}:
            node.fail(f"{name!r} is not a device kind ({', '.join(k.value for k in DeviceKind)})")
        out.add(DeviceKind(name))
    return frozenset(out)


def _match(node: Node, rule_type: RuleType) -> Match:
    fields = Fields(node)
    source = Source(_choice(fields.need("message"), Source))
    if source not in _SOURCES[rule_type]:
        allowed = ", ".join(sorted(_SOURCES[rule_type]))
        fields.need("message").fail(f"a {rule_type} rule listens to {allowed}, not {source}")
    kinds = _kinds(fields.get("kind"))
    if source is Source.READING and DeviceKind.ELEVATOR in kinds:
        node.fail("elevator cameras send no readings, only events")
    events: frozenset[str] = frozenset()
    scan_types: frozenset[str] = frozenset()
    event_node = fields.get("event") if source is Source.EVENT else None
    if source is Source.EVENT:
        if event_node is None:
            node.fail("event is missing: name the event(s) this rule listens to")
        known = set().union(*(EVENTS[k] for k in kinds or DeviceKind))
        events = frozenset(event_node.words())
        for name in sorted(events - known):
            event_node.fail(f"{name!r} is not an event of {', '.join(sorted(kinds)) or 'any kind'}")
    scan_node = fields.get("scan_type") if source is Source.SCAN else None
    if scan_node is not None:
        scan_types = frozenset(scan_node.words())
        for name in sorted(scan_types - SCAN_TYPES):
            scan_node.fail(f"{name!r} is not a scan type ({', '.join(sorted(SCAN_TYPES))})")
    fields.done()
    return Match(source, kinds, events, scan_types)


def _venue_types(node: Node | None) -> frozenset[str] | None:
    if node is None:
        return None
    names = node.words()
    for name in names:
        if name not in {t.value for t in VenueType}:
            node.fail(f"{name!r} is not a venue type")
    return frozenset(names)


def _check(rule_type: RuleType, scope: Scope, params: Params, node: Node) -> None:
    """What the parameters of each type must satisfy together."""
    if rule_type is RuleType.COINCIDENCE:
        have = len(params.criteria) if scope is Scope.DEVICE else None
        if scope is Scope.DEVICE and not params.criteria:
            node.fail("a device coincidence needs criteria (the detector's own signals)")
        if scope is Scope.VENUE and params.criteria:
            node.fail("a venue coincidence counts devices: give when, not criteria")
        if params.need < 1 or (have is not None and params.need > have):
            node.fail(f"need must be between 1 and {have or 'the number of devices'}")
    if rule_type is RuleType.RATE_OF_RISE and params.min_span_s > params.window_s:
        node.fail("min_span must not be longer than the window")
    if rule_type is RuleType.COUNT and params.count < 1:
        node.fail("count must be at least 1")
    if rule_type is RuleType.ABSENCE and params.heartbeats < 3:
        node.fail("heartbeats must be at least 3 (ingest reports a device offline after 3)")


def _hazard(fields: Fields, rule_type: RuleType, category: Category) -> str | None:
    node = fields.get("hazard")
    if node is None:
        if category is Category.HAZARD and rule_type is not RuleType.SCAN_FAILED:
            fields.node.fail(
                "hazard is missing: a hazard rule names the hazard a case is opened for"
            )
        return None
    hazard = node.text()
    if not _HAZARD.match(hazard):
        node.fail(f"{hazard!r}: a hazard is a lower-case name like indoor_ebike_charging")
    if rule_type is RuleType.SCAN_FAILED:
        node.fail("a scan_failed rule names the failed item as its hazard")
    return hazard


def parse_rule(node: Node, file: Path) -> RuleSpec:
    fields = Fields(node)
    id_node = fields.need("id")
    rule_id = id_node.text()
    if not _ID.match(rule_id):
        id_node.fail(f"{rule_id!r}: use lower-case letters, digits, _ . and -, up to 64")
    version = fields.need("version").integer(minimum=1)
    rule_type = RuleType(_choice(fields.need("type"), RuleType))
    scope = Scope(_choice(fields.need("scope"), Scope))
    if scope not in _SCOPES[rule_type]:
        speaks = ", ".join(sorted(_SCOPES[rule_type]))
        fields.need("scope").fail(f"a {rule_type} rule speaks of {speaks}, not {scope}")
    category = Category(_choice(fields.need("category"), Category))
    description = " ".join(fields.need("description").text().split())
    match = _match(fields.need("match"), rule_type)
    hazard = _hazard(fields, rule_type, category)
    allowed = fields_for(match.source, match.kinds)
    shape = Shape(rule_type, scope, match.source, allowed)
    params = read_params(fields, shape, None)
    overrides = _overrides(fields.get("overrides"), shape, params)
    for checked in (params, *(changed for _, changed in overrides)):
        _check(rule_type, scope, checked, node)
    venue_types = _venue_types(fields.get("venue_types"))
    tests_node = fields.get("tests")
    tests = parse_tests(tests_node, match) if tests_node is not None else ()
    fields.done()
    return RuleSpec(
        id=rule_id, version=version, type=rule_type, scope=scope, category=category,
        description=description, match=match, params=params, hazard=hazard,
        venue_types=venue_types, overrides=overrides, where=Where(file, id_node.line),
        tests=tests,
    )  # fmt: skip


def _overrides(node: Node | None, shape: Shape, base: Params) -> tuple[tuple[str, Params], ...]:
    if node is None:
        return ()
    out = []
    for venue_type, override in node.mapping().items():
        if venue_type not in {t.value for t in VenueType}:
            override.fail(f"{venue_type!r} is not a venue type")
        changed = read_params(Fields(override), shape, base)
        out.append((venue_type, changed))
    return tuple(sorted(out, key=lambda pair: pair[0]))
