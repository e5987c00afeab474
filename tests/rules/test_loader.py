"""The loader refuses what it cannot use, naming the file, the line and the reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from firewatch.rules.errors import RuleLibraryError
from firewatch.rules.loader import load_files, load_library, parse_text
from firewatch.rules.spec import Op, RuleType
from tests.rules.helpers import write_rules

GOOD = """\
rules:
  - id: t.heat
    version: 2
    type: threshold
    scope: device
    category: fire
    level: red
    description: hot
    match: {message: reading, kind: smoke}
    when: temp_c >= 57
"""


def _rule(**changes: str) -> str:
    """GOOD with some lines replaced (key: new text), for one problem per case."""
    lines = GOOD.splitlines()
    for key, text in changes.items():
        lines = [f"    {text}" if line.strip().startswith(f"{key}:") else line for line in lines]
    return "\n".join(lines) + "\n"


CASES = [
    # a YAML syntax error: the line PyYAML marks
    ("rules:\n  - id: [unclosed\n", 3, "not valid YAML"),
    # the file holds no rules key
    ("rulez: []\n", 1, "rules is missing"),
    # an empty rules list
    ("rules: []\n", 1, "rules is empty"),
    # a misspelt key is an error, not a silently ignored default
    (GOOD + "    treshold: 3\n", 11, "unknown key treshold"),
    # a key given twice
    (GOOD + "    when: temp_c >= 60\n", 11, "when is given twice"),
    # an unknown rule type
    (_rule(type="type: trend"), 4, "'trend' is not one of"),
    # a level outside red / orange / yellow / blue
    (_rule(level="level: purple"), 7, "'purple' is not a level"),
    # a field the listened-to messages do not carry
    (_rule(when="when: power_w >= 500"), 10, "power_w is not a field of these messages"),
    # a number compared with text
    (_rule(when="when: temp_c >= hot"), 10, "temp_c is a number"),
    # a boolean compared with >=
    (_rule(when="when: alarm >= 1"), 10, "alarm is true or false"),
    # a charging state that does not exist
    (
        _rule(match="match: {message: reading, kind: charging}", when="when: state == boiling"),
        10,
        "state is one of charging, fault, full, idle",
    ),
    # an event the kind never sends
    (
        _rule(match="match: {message: event, kind: smoke, event: explode}"),
        9,
        "'explode' is not an event",
    ),
    # a reading rule without a condition would match every reading
    (GOOD.replace("    when: temp_c >= 57\n", ""), 2, "when is missing"),
    # a hazard rule must name its hazard
    (_rule(category="category: hazard"), 2, "hazard is missing"),
    # a scope the type cannot speak of
    (_rule(scope="scope: community"), 5, "a threshold rule speaks of device, not community"),
    # a duration that is not one
    (GOOD.replace("threshold", "persistence") + "    held: soon\n", 11, "expected a duration"),
    # an override for a venue type the contract does not have
    (
        GOOD + "    overrides:\n      spaceship: {level: blue}\n",
        12,
        "'spaceship' is not a venue type",
    ),
    # an override that changes nothing
    (GOOD + "    overrides:\n      small_shop: {}\n", 12, "an override must change something"),
    # absence below the 3 heartbeats ingest reports at
    (
        "rules:\n  - id: t.gone\n    version: 1\n    type: absence\n    scope: device\n"
        "    category: trouble\n    level: blue\n    description: gone\n"
        "    match: {message: offline}\n    heartbeats: 2\n",
        2,
        "heartbeats must be at least 3",
    ),
    # a coincidence asking for more criteria than it has
    (
        "rules:\n  - id: t.both\n    version: 1\n    type: coincidence\n    scope: device\n"
        "    category: fire\n    level: red\n    description: both\n"
        "    match: {message: reading, kind: smoke}\n    criteria: [alarm == true]\n"
        "    need: 2\n    within: 1m\n",
        2,
        "need must be between 1 and 1",
    ),
    # a test input with an unknown field
    (
        GOOD + "    tests:\n      - name: t\n        input:\n          - {at: 0, device: S, "
        "reading: {heat: 3}}\n        expect: []\n",
        14,
        "heat is not a field of this message",
    ),
    # a test expecting a level that does not exist
    (
        GOOD + "    tests:\n      - name: t\n        input: []\n        expect:\n"
        "          - {at: 0, subject: S, level: pink}\n",
        15,
        "'pink' is not a level",
    ),
]


@pytest.mark.parametrize(("text", "line", "reason"), CASES)
def test_a_bad_rule_is_refused_with_its_line_and_reason(text: str, line: int, reason: str) -> None:
    rules, problems = parse_text(text, Path("bad.yaml"))
    assert rules == []
    assert len(problems) == 1
    assert problems[0].line == line, problems[0]
    assert reason in problems[0].reason, problems[0]
    assert str(problems[0]).startswith(f"bad.yaml:{line}: ")


def test_a_good_rule_is_read_as_written() -> None:
    rules, problems = parse_text(GOOD, Path("good.yaml"))
    assert problems == []
    (rule,) = rules
    assert (rule.id, rule.version, rule.type, str(rule.where)) == (
        "t.heat",
        2,
        RuleType.THRESHOLD,
        "good.yaml:2",
    )
    assert [(t.field, t.op, t.value) for t in rule.params.when.terms] == [("temp_c", Op.GE, 57.0)]


def test_every_problem_of_every_file_is_reported_at_once(tmp_path: Path) -> None:
    write_rules(tmp_path, "a.yaml", _rule(level="level: purple"))
    write_rules(tmp_path, "b.yaml", GOOD.replace("t.heat", "t.other") + "    bogus: 1\n")
    write_rules(tmp_path, "c.yaml", GOOD)
    write_rules(tmp_path, "d.yaml", GOOD)  # the same id again
    write_rules(tmp_path, "notes.txt", "not a rule file")
    with pytest.raises(RuleLibraryError) as caught:
        load_library(tmp_path)
    lines = str(caught.value).splitlines()
    assert lines == [
        f"{tmp_path / 'a.yaml'}:7: rules[0].level: 'purple' is not a level (red, orange, yellow, blue)",
        f"{tmp_path / 'b.yaml'}:11: rules[0]: unknown key bogus (expected one of: category, "
        "cooldown, description, during, enabled, hazard, id, level, match, overrides, scope, "
        "tests, type, venue_types, version, when)",
        f"{tmp_path / 'd.yaml'}:2: rule t.heat is also defined at {tmp_path / 'c.yaml'}:2",
    ]


def test_an_empty_directory_and_an_unreadable_file_are_refused(tmp_path: Path) -> None:
    with pytest.raises(RuleLibraryError, match="holds no rule files"):
        load_library(tmp_path)
    bad = write_rules(tmp_path, "latin.yaml", "")
    bad.write_bytes(b"\xff\xfe rules")
    with pytest.raises(RuleLibraryError, match=r"latin\.yaml:1: cannot be read"):
        load_files([bad])
