"""The records of the cases stage: stages, roles, reasons, and the case as it is read back.

Every record is a frozen, slotted dataclass; every enum value is stored in the database (in
`hazard_case`, `case_history`, `case_part`, `case_listing`) and never renamed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class Stage(StrEnum):
    """The closed loop (巡查 → 发现 → 上报 → 立案 → 派遣 → 处置 → 核查 → 结案), plus cancelled."""

    DISCOVERED = "discovered"  # 发现
    REPORTED = "reported"  # 上报
    REGISTERED = "registered"  # 立案
    DISPATCHED = "dispatched"  # 派遣
    HANDLING = "handling"  # 处置
    VERIFYING = "verifying"  # 核查
    CLOSED = "closed"  # 结案
    CANCELLED = "cancelled"  # 撤销: a false report, with its reason

    @property
    def terminal(self) -> bool:
        return self in (Stage.CLOSED, Stage.CANCELLED)

    @property
    def label(self) -> str:
        return STAGE_LABELS[self]


STAGE_LABELS: dict[Stage, str] = {
    Stage.DISCOVERED: "发现",
    Stage.REPORTED: "上报",
    Stage.REGISTERED: "立案",
    Stage.DISPATCHED: "派遣",
    Stage.HANDLING: "处置",
    Stage.VERIFYING: "核查",
    Stage.CLOSED: "结案",
    Stage.CANCELLED: "撤销",
}


class Role(StrEnum):
    """Who acts (the API's roles, issue 9), and the engine itself for automatic moves."""

    ADMIN = "admin"
    OPERATOR = "operator"  # the control room (城运中心)
    STATION = "station"  # micro fire station members
    INSPECTOR = "inspector"  # grid inspectors (网格员): scans, verification
    DEPARTMENT = "department"  # police station, market supervision, ...: their own parts
    VIEWER = "viewer"  # reads only
    SYSTEM = "system"  # the engine: cases opened from scans, evidence, alerts; rectifications


class Kind(StrEnum):
    HAZARD = "hazard"  # 隐患: found by a scan or a sensor
    INCIDENT = "incident"  # a confirmed fire alert, followed up and investigated


class Source(StrEnum):
    SCAN = "scan"
    EVIDENCE = "evidence"
    ALERT = "alert"
    MANUAL = "manual"


class Supervision(StrEnum):
    """Listed supervision (挂牌督办) as every view of a case shows it."""

    NONE = "none"
    STREET_PROPOSED = "street_proposed"  # proposed for street-level listing, not yet decided
    STREET = "street"  # 街道挂牌
    DISTRICT = "district"  # 区级挂牌


class PartState(StrEnum):
    """One department's part of a jointly handled case."""

    ASSIGNED = "assigned"
    ACCEPTED = "accepted"
    DONE = "done"
    DECLINED = "declined"  # not this department's matter (with a note)


class Reason(StrEnum):
    """Why a history entry exists: stored with it, so the history explains itself."""

    # opening
    OPENED_FROM_SCAN = "opened_from_scan"
    OPENED_FROM_EVIDENCE = "opened_from_evidence"
    OPENED_FROM_ALERT = "opened_from_alert"
    OPENED_MANUALLY = "opened_manually"
    FOUND_AGAIN = "found_again"  # the same hazard found again while the case is open
    # stage moves
    REPORTED = "reported"
    REGISTERED = "registered"
    DISPATCHED = "dispatched"
    HANDLING_STARTED = "handling_started"
    SUBMITTED_FOR_VERIFICATION = "submitted_for_verification"
    RECTIFICATION_SCAN = "rectification_scan"  # the venue's scan names this case as fixed
    RECTIFICATION_ITEM = "rectification_item"  # the venue's scan reports this hazard's item fixed
    VERIFIED_CLOSED = "verified_closed"
    VERIFICATION_FAILED = "verification_failed"  # back to handling
    CANCELLED_FALSE_REPORT = "cancelled_false_report"
    # joint handling
    PART_ASSIGNED = "part_assigned"
    PART_ACCEPTED = "part_accepted"
    PART_DONE = "part_done"
    PART_DECLINED = "part_declined"
    PARTS_REOPENED = "parts_reopened"  # verification failed: done parts are open again
    ALL_PARTS_DONE = "all_parts_done"  # the last part done sends the case to verification
    # listed supervision
    LISTING_PROPOSED_RECURRENCE = "listing_proposed_recurrence"  # 整治反复回潮
    LISTING_PROPOSED_OVERDUE = "listing_proposed_overdue"  # overdue by more than 30 days
    LISTED_STREET = "listed_street"
    LISTED_DISTRICT = "listed_district"
    LISTING_REJECTED = "listing_rejected"
    LISTING_LIFTED = "listing_lifted"


class Refusal(StrEnum):
    """Why a move is refused (the error names it)."""

    TERMINAL = "terminal"  # the case is closed or cancelled
    NO_SUCH_MOVE = "no_such_move"
    ROLE_NOT_ALLOWED = "role_not_allowed"
    NOTE_REQUIRED = "note_required"
    NOT_YOUR_DEPARTMENT = "not_your_department"
    UNKNOWN_DEPARTMENT = "unknown_department"
    ALREADY_LISTED = "already_listed"


@dataclass(frozen=True, slots=True)
class Actor:
    """Who makes a move: a user id (or `engine`, `scan:INSP-7`), a role, and for department
    users the department they act for."""

    actor_id: str
    role: Role
    department: str | None = None


SYSTEM = Actor("engine", Role.SYSTEM)


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One line of a case's append-only history; `seq` is the case version it produced."""

    seq: int
    at: datetime
    actor: str
    role: Role
    from_stage: Stage | None
    to_stage: Stage
    reason: Reason
    note: str = ""
    attachments: tuple[str, ...] = ()
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Part:
    department: str
    state: PartState
    assigned_at: datetime
    accepted_at: datetime | None = None
    done_at: datetime | None = None
    note: str = ""


@dataclass(frozen=True, slots=True)
class Case:
    case_id: str
    kind: Kind
    venue_id: str
    community: str
    grid: str
    station_id: str
    hazard: str
    source: Source
    summary: str
    stage: Stage
    opened_at: datetime
    due_at: datetime
    closed_at: datetime | None
    supervision: Supervision
    recurrence_of: str | None
    found_count: int
    last_found_at: datetime
    version: int
    parts: tuple[Part, ...] = ()
    history: tuple[HistoryEntry, ...] = ()

    def overdue(self, now: datetime) -> bool:
        return not self.stage.terminal and now > self.due_at

    @property
    def listed(self) -> bool:
        return self.supervision in (Supervision.STREET, Supervision.DISTRICT)
