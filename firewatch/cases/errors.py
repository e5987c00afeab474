"""The cases stage's few exceptions; each message names the case, the move and the reason.

A refused move is raised (the caller asked for something it may not do), but the refusal
itself is decided by the pure functions of `workflow`, which return a `Refusal` value.
"""

from __future__ import annotations

from firewatch.cases.records import Refusal, Role


class CaseError(Exception):
    """Base of the cases stage's errors."""


class CaseNotFoundError(CaseError):
    """No case with this id; the message names it."""

    def __init__(self, case_id: str) -> None:
        super().__init__(f"case {case_id} does not exist")
        self.case_id = case_id


class IllegalMoveError(CaseError):
    """A move the workflow table does not allow for this role (or at all)."""

    def __init__(self, case_id: str, role: Role, move: str, refusal: Refusal, hint: str) -> None:
        super().__init__(f"{role} may not {move} on case {case_id}: {refusal} ({hint})")
        self.case_id = case_id
        self.role = role
        self.refusal = refusal


class ConflictError(CaseError):
    """Someone else changed the case between our read and our write; reload and retry."""

    def __init__(self, case_id: str, expected: int, found: int | None) -> None:
        now = "is gone" if found is None else f"is now at version {found}"
        super().__init__(
            f"case {case_id} was changed by someone else: expected version {expected}, it {now};"
            " reload the case and try again"
        )
        self.case_id = case_id
        self.expected = expected
        self.found = found
