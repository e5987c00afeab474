"""A case's life rebuilt from its history alone: the audit trail is complete if this agrees
with the case as stored (stage, supervision, findings, parts, closure, version).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from firewatch.cases.records import HistoryEntry, PartState, Reason, Stage, Supervision

_PART_TARGET = {
    Reason.PART_ASSIGNED: PartState.ASSIGNED,
    Reason.PART_ACCEPTED: PartState.ACCEPTED,
    Reason.PART_DONE: PartState.DONE,
    Reason.PART_DECLINED: PartState.DECLINED,
}
_SUPERVISION = {
    Reason.LISTING_PROPOSED_RECURRENCE: Supervision.STREET_PROPOSED,
    Reason.LISTING_PROPOSED_OVERDUE: Supervision.STREET_PROPOSED,
    Reason.LISTED_STREET: Supervision.STREET,
    Reason.LISTED_DISTRICT: Supervision.DISTRICT,
    Reason.LISTING_REJECTED: Supervision.NONE,
}


@dataclass(frozen=True, slots=True)
class Replayed:
    stage: Stage
    supervision: Supervision
    found_count: int
    parts: dict[str, PartState]
    opened_at: datetime
    closed_at: datetime | None
    version: int


def replay(history: Sequence[HistoryEntry]) -> Replayed:
    """Fold the history, in order; raises ValueError if it is not one unbroken life."""
    if not history or history[0].from_stage is not None:
        raise ValueError("a history starts with the opening entry (from no stage)")
    stage = history[0].to_stage
    supervision, found, closed_at = Supervision.NONE, 1, None
    parts: dict[str, PartState] = {}
    for expected_seq, entry in enumerate(history, start=1):
        if entry.seq != expected_seq:
            raise ValueError(f"history entry {entry.seq} where {expected_seq} was expected")
        if expected_seq > 1 and entry.from_stage is not stage:
            raise ValueError(f"entry {entry.seq} moves from {entry.from_stage}, case was {stage}")
        stage = entry.to_stage
        if entry.reason is Reason.FOUND_AGAIN:
            found += 1
        elif entry.reason in _PART_TARGET:
            parts[str(entry.data["department"])] = _PART_TARGET[entry.reason]
        elif entry.reason is Reason.PARTS_REOPENED:
            for department in entry.data["departments"]:
                parts[str(department)] = PartState.ACCEPTED
        elif entry.reason in _SUPERVISION:
            supervision = _SUPERVISION[entry.reason]
        if stage.terminal and closed_at is None:
            closed_at = entry.at
            if supervision is Supervision.STREET_PROPOSED:
                supervision = Supervision.NONE
    return Replayed(stage, supervision, found, parts, history[0].at, closed_at, len(history))
