"""A rules library: every `*.yaml` file of a directory, loaded all or nothing.

Loading collects every problem of every file (file, line, reason) before refusing, so that an
officer fixes them in one go; a library with any problem is refused as a whole, and whoever
runs the rules keeps the ones already in force.

>>> library = load_library(DEFAULT_DIR)
>>> len(library.rules) >= 20, library.get("heat.rate_of_rise").type
(True, <RuleType.RATE_OF_RISE: 'rate_of_rise'>)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from firewatch.rules.errors import RuleLibraryError, SpecError
from firewatch.rules.parse import parse_rule
from firewatch.rules.spec import Rise, RuleSpec
from firewatch.rules.yamlnodes import Fields, compose

DEFAULT_DIR: Final = Path(__file__).resolve().parent / "library"
"""The default library shipped with firewatch."""

SUFFIXES: Final = (".yaml", ".yml")


@dataclass(frozen=True, slots=True)
class Problem:
    file: Path
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.reason}"


@dataclass(frozen=True, slots=True)
class Library:
    rules: tuple[RuleSpec, ...]
    files: tuple[Path, ...] = ()

    def longest_window_s(self) -> dict[str, float]:
        """Per source (reading, event, status, scan, offline), the longest stretch of history
        a rule of it looks back over (windows, persistence, cool-downs, over every venue
        type's parameters): what a restart must replay to rebuild the rules' state."""
        longest: dict[str, float] = {}
        for rule in self.rules:
            for params in (rule.params, *(p for _, p in rule.overrides)):
                within = [c.within_s for c in params.criteria if isinstance(c, Rise)]
                span = max(params.window_s, params.held_s, params.cooldown_s, *within)
                source = str(rule.match.source)
                longest[source] = max(longest.get(source, 0.0), span)
        return longest

    def get(self, rule_id: str) -> RuleSpec:
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise KeyError(rule_id)

    def only(self, rule_ids: Iterable[str]) -> Library:
        """The named rules alone; an unknown id is an error naming it."""
        wanted = set(rule_ids)
        unknown = wanted - {r.id for r in self.rules}
        if unknown:
            raise KeyError(f"no rule {', '.join(sorted(unknown))} in the library")
        return Library(tuple(r for r in self.rules if r.id in wanted), self.files)


def parse_text(text: str, file: Path) -> tuple[list[RuleSpec], list[Problem]]:
    """The rules of one file and the problems found (one per broken rule)."""
    try:
        top = Fields(compose(text))
        rules_node = top.need("rules")
        top.done()
        items = rules_node.sequence()
    except SpecError as exc:
        return [], [Problem(file, exc.line, exc.reason)]
    rules, problems = [], []
    for item in items:
        try:
            rules.append(parse_rule(item, file))
        except SpecError as exc:
            problems.append(Problem(file, exc.line, exc.reason))
    if not items:
        problems.append(Problem(file, rules_node.line, "rules is empty"))
    return rules, problems


def rule_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.iterdir() if p.suffix in SUFFIXES and p.is_file())


def load_files(files: Iterable[Path]) -> Library:
    """The rules of these files, or `RuleLibraryError` with every problem (duplicate ids too)."""
    paths = list(files)
    rules: list[RuleSpec] = []
    problems: list[Problem] = []
    seen: dict[str, RuleSpec] = {}
    for path in paths:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(Problem(path, 1, f"cannot be read: {exc}"))
            continue
        found, bad = parse_text(text, path)
        problems.extend(bad)
        for rule in found:
            first = seen.get(rule.id)
            if first is not None:
                line = rule.where.line if rule.where else 1
                problems.append(
                    Problem(path, line, f"rule {rule.id} is also defined at {first.where}")
                )
                continue
            seen[rule.id] = rule
            rules.append(rule)
    if problems:
        raise RuleLibraryError(problems)
    return Library(tuple(rules), tuple(paths))


def load_library(directory: Path) -> Library:
    """Every rule file of `directory`; refused as a whole if any file has a problem."""
    if not directory.is_dir():
        raise RuleLibraryError([Problem(directory, 0, "is not a directory")])
    files = rule_files(directory)
    if not files:
        raise RuleLibraryError([Problem(directory, 0, "holds no rule files (*.yaml)")])
    return load_files(files)


def fingerprint(directory: Path) -> tuple[tuple[str, int, int], ...]:
    """What the watcher compares: each rule file's name, modification time and size."""
    out = []
    for path in rule_files(directory) if directory.is_dir() else []:
        try:
            stat = path.stat()
        except OSError:
            continue  # removed between the listing and the look
        out.append((path.name, stat.st_mtime_ns, stat.st_size))
    return tuple(out)
