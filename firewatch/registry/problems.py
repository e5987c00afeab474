"""What is wrong with an import: one `Problem` per bad value, all raised together."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from firewatch.registry.phones import mask_phones_in
from firewatch.registry.records import reading_order

MAX_SHOWN: Final = 60


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with an import, located well enough for an operator to fix it.

    >>> print(Problem("venues.csv", 7, "category", "expected 1, 2 or 3, got '4'"))
    venues.csv line 7, field category: expected 1, 2 or 3, got '4'
    >>> print(Problem("registry.json", "venues[12]", None, "expected a JSON object"))
    registry.json venues[12]: expected a JSON object
    >>> print(Problem("missing.csv", None, None, "no such file"))
    missing.csv: no such file
    """

    file: str
    row: int | str | None  # CSV line (header = 1) or line of a JSON syntax error; JSON path; None
    field: str | None
    message: str

    def __str__(self) -> str:
        where = place(self.file, self.row)
        if self.field is not None:
            where += f", field {self.field}"
        return f"{where}: {self.message}"


def place(file: str, row: int | str | None) -> str:
    """Where a row is, as an operator would look for it."""
    if isinstance(row, int):
        return f"{file} line {row}"
    return file if row is None else f"{file} {row}"


def shown(value: object) -> str:
    """A value read from a file, quoted for a message: shortened, phone numbers masked.

    >>> shown(4)
    "'4'"
    >>> shown("call 13800000000")
    "'call *******0000'"
    """
    text = mask_phones_in(str(value))
    if len(text) > MAX_SHOWN:
        text = text[: MAX_SHOWN - 3] + "..."
    return repr(text)


def one_of(values: Iterable[str]) -> str:
    """Allowed values for a message.

    >>> one_of(["micro", "professional"])
    'micro or professional'
    """
    *head, last = list(values)
    return f"{', '.join(head)} or {last}" if head else last


def ordered(problems: Iterable[Problem], files: tuple[str, ...]) -> list[Problem]:
    """Problems as they stand in the files, so that an operator can work down the list."""
    return sorted(problems, key=lambda p: reading_order(files, p.file, p.row))
