"""firewatch stage: cases — the closed-loop hazard store (see README.md beside this file).

The public API: open cases from findings (`CaseIntake`, `apply_scan`, `apply_evidence`,
`open_incident`), move them (`move`, `dispatch`, `move_part`, `decide_listing`), read them
(`load`, `find`), sweep deadlines (`sweep`), and report (`cases.assessment`).
"""

from firewatch.cases.consumer import CaseIntake
from firewatch.cases.errors import CaseError, CaseNotFoundError, ConflictError, IllegalMoveError
from firewatch.cases.intake import (
    ConfirmedAlert,
    ScanApplied,
    ScanOutcome,
    apply_evidence,
    apply_scan,
    open_incident,
)
from firewatch.cases.moves import dispatch, move, move_part
from firewatch.cases.opening import Finding, Opened, OpenResult, open_case
from firewatch.cases.records import (
    SYSTEM,
    Actor,
    Case,
    HistoryEntry,
    Kind,
    Part,
    PartState,
    Reason,
    Refusal,
    Role,
    Source,
    Stage,
    Supervision,
)
from firewatch.cases.reminders import SweepReport, sweep
from firewatch.cases.settings import CasesSettings, settings_from_config
from firewatch.cases.store import find, load
from firewatch.cases.supervision import Level
from firewatch.cases.supervision import decide as decide_listing

__all__ = [
    "SYSTEM",
    "Actor",
    "Case",
    "CaseError",
    "CaseIntake",
    "CaseNotFoundError",
    "CasesSettings",
    "ConfirmedAlert",
    "ConflictError",
    "Finding",
    "HistoryEntry",
    "IllegalMoveError",
    "Kind",
    "Level",
    "OpenResult",
    "Opened",
    "Part",
    "PartState",
    "Reason",
    "Refusal",
    "Role",
    "ScanApplied",
    "ScanOutcome",
    "Source",
    "Stage",
    "Supervision",
    "SweepReport",
    "apply_evidence",
    "apply_scan",
    "decide_listing",
    "dispatch",
    "find",
    "load",
    "move",
    "move_part",
    "open_case",
    "open_incident",
    "settings_from_config",
    "sweep",
]
