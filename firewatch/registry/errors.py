"""The registry's exceptions.

RegistryError              base of the registry's errors
 └── RegistryImportError   an import refused as a whole: every problem, one a line
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from firewatch.registry.problems import Problem


class RegistryError(Exception):
    """Base of the registry's errors."""


class RegistryImportError(RegistryError):
    """The import was refused and nothing was written; `str()` gives one problem per line, each
    located by file and row."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(problems)
        self.problems = problems

    def __str__(self) -> str:
        return "\n".join(str(p) for p in self.problems)
