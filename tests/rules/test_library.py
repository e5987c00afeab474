"""The default library: every rule carries tests, they pass, and they catch a broken threshold.

Mutation: each number a rule decides by (a condition's value, a rate, a window, a hold, a
count) is doubled and halved in turn; at least one of the two must make one of the rule's own
tests fail. A number no test notices is a number nobody has checked.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from firewatch.rules.loader import DEFAULT_DIR, parse_text, rule_files
from firewatch.rules.spec import RuleType
from firewatch.rules.unit import run_rule_tests
from tests.rules.helpers import ZONE, default_library

RULE_IDS = [rule.id for rule in default_library().rules]
# Keys that are not thresholds: identity, wording, where the rule applies, and tuning knobs
# whose effect is a matter of resolution rather than of the finding (min_span, max_samples).
NOT_MUTATED = {"id", "version", "type", "scope", "category", "level", "hazard", "description",
               "match", "venue_types", "tests", "during", "min_span", "max_samples", "cooldown",
               "enabled", "last_will", "field", "fields"}  # fmt: skip
NUMBER = re.compile(r"(-?\d+(?:\.\d+)?)(\s*(?:ms|s|m|h|d)?\s*)$")

Path_ = tuple[Any, ...]


def _raw_rules() -> dict[str, tuple[Path, dict[str, Any]]]:
    found = {}
    for path in rule_files(DEFAULT_DIR):
        for rule in yaml.safe_load(path.read_text(encoding="utf-8"))["rules"]:
            found[rule["id"]] = (path, rule)
    return found


RAW = _raw_rules()


def _sites(node: Any, path: Path_ = ()) -> list[Path_]:
    """Where the numbers are: paths to numbers and to strings ending in a number."""
    if isinstance(node, dict):
        return [s for k, v in node.items() if k not in NOT_MUTATED for s in _sites(v, (*path, k))]
    if isinstance(node, list):
        return [s for n, v in enumerate(node) for s in _sites(v, (*path, n))]
    if isinstance(node, bool):
        return []
    if isinstance(node, int | float) or (isinstance(node, str) and NUMBER.search(node)):
        return [path]
    return []


def _scaled(value: Any, factor: float) -> Any:
    if isinstance(value, int):
        return max(1, round(value * factor))
    if isinstance(value, float):
        return value * factor
    found = NUMBER.search(value)
    assert found is not None
    number = float(found.group(1)) * factor
    return value[: found.start()] + f"{number:g}" + found.group(2)


def _mutant(rule: dict[str, Any], site: Path_, factor: float) -> dict[str, Any]:
    out = copy.deepcopy(rule)
    holder = out
    for key in site[:-1]:
        holder = holder[key]
    holder[site[-1]] = _scaled(holder[site[-1]], factor)
    return out


def _killed(file: Path, rule: dict[str, Any]) -> bool | None:
    """True when a test of the mutated rule fails; None when the mutant is not a valid rule."""
    specs, problems = parse_text(yaml.safe_dump({"rules": [rule]}, allow_unicode=True), file)
    if problems:
        return None
    return any(not outcome.passed for outcome in run_rule_tests(specs[0], ZONE))


def test_the_library_uses_every_rule_type() -> None:
    assert {rule.type for rule in default_library().rules} == set(RuleType)


@pytest.mark.parametrize("rule_id", RULE_IDS)
def test_each_rule_has_tests_and_they_pass(rule_id: str) -> None:
    spec = default_library().get(rule_id)
    assert spec.tests, f"{rule_id} has no tests"
    failed = [str(o) for o in run_rule_tests(spec, ZONE) if not o.passed]
    assert not failed, "\n".join(failed)


@pytest.mark.parametrize("rule_id", RULE_IDS)
def test_mutating_a_threshold_fails_the_rules_tests(rule_id: str) -> None:
    file, rule = RAW[rule_id]
    unnoticed = []
    for site in _sites(rule):
        outcomes = [_killed(file, _mutant(rule, site, f)) for f in (2.0, 0.5)]
        assert outcomes != [None, None], f"{rule_id}: both mutants of {site} are invalid"
        if not any(outcomes):
            unnoticed.append(".".join(map(str, site)))
    assert not unnoticed, f"{rule_id}: no test notices a change of {', '.join(unnoticed)}"


def test_rules_without_numbers_are_the_event_rules() -> None:
    bare = {rule_id for rule_id, (_, rule) in RAW.items() if not _sites(rule)}
    assert bare == {
        "smoke.alarm", "charging.overtemp_event", "charging.overcurrent",
        "charging.short_circuit", "device.low_battery", "device.tamper", "device.fault",
        "scan.item_failed",
    }  # fmt: skip


def test_the_mutation_itself_breaks_a_rule_test() -> None:
    # A sanity check of the harness: raising the rate of rise to 16.6 °C/min misses the
    # "10 °C a minute" test, and the harness says so.
    file, rule = RAW["heat.rate_of_rise"]
    assert _killed(file, _mutant(rule, ("rate_per_min",), 2.0)) is True
    assert _killed(file, rule) is False
