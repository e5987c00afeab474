"""The rules stage's exceptions; each message names the file, line or term that failed.

    RulesError                base of every rules error
     ├── RuleLibraryError     a rules library refused as a whole: every problem, one a line
     ├── SpecError            one line of a rule file is wrong (the loader adds the file name)
     └── ConditionError       one condition term cannot be used (also a ValueError)

`SpecError` and `ConditionError` are caught by the loader and become the `Problem`s of a
`RuleLibraryError`; only that one leaves the loader.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from firewatch.rules.loader import Problem


class RulesError(Exception):
    """Base of the rules stage's errors."""


class RuleLibraryError(RulesError):
    """A rules library that cannot be used; the message lists every problem, one a line."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class SpecError(RulesError):
    """A problem at one line of a rule file; the loader adds the file name."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(f"line {line}: {reason}")
        self.line = line
        self.reason = reason


class ConditionError(RulesError, ValueError):
    """A condition term that cannot be used; the message quotes the term and says why (the
    loader adds file and line)."""
