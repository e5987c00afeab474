"""The pure decisions of the cases stage, table-driven, one comment per row."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from zoneinfo import ZoneInfo

import pytest

from firewatch.cases.deadlines import (
    Holder,
    HolderKind,
    ReminderReason,
    due_at,
    holders,
    reminder_reason,
)
from firewatch.cases.inspections import Coverage, coverage_state
from firewatch.cases.intake import finding_from_evidence, findings_from_scan
from firewatch.cases.records import (
    Actor,
    Kind,
    Part,
    PartState,
    Reason,
    Refusal,
    Role,
    Stage,
    Supervision,
)
from firewatch.cases.settings import CasesSettings
from firewatch.cases.supervision import Level, ListingFacts, decide_listing, listing_proposal
from firewatch.cases.workflow import decide_part
from firewatch.rules.evidence import Category
from tests.cases.support import T0, evidence, scan

H, D = timedelta(hours=1), timedelta(days=1)
S = CasesSettings()
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize(
    ("hazard", "settings", "due_in"),
    [
        (("evacuation_blocked"), S, 24 * H),  # blocked evacuation: immediate, within a day
        (("lodging"), S, 24 * H),  # people sleeping in a shop: immediate
        (("lodging"), CasesSettings(immediate_hours=12), 12 * H),  # immediate hours configured
        (("indoor_ebike_charging"), S, 3 * D),  # the catalogue's days
        (("unauthorised_loft"), S, 30 * D),  # a building matter takes a month
        (("kitchen_flue_cleaned"), S, 7 * D),  # a venue's own checklist line: the default
        (("kitchen_flue_cleaned"), CasesSettings(default_days=5), 5 * D),  # default configured
        # a per-hazard override wins over the catalogue, even over "immediate"
        (("gas_unsafe"), CasesSettings(deadline_days=MappingProxyType({"gas_unsafe": 2})), 2 * D),
    ],
)
def test_due_at(hazard: str, settings: CasesSettings, due_in: timedelta) -> None:
    assert due_at(hazard, T0, settings) == T0 + due_in


DUE = T0 + 3 * D


@pytest.mark.parametrize(
    ("stage", "now", "expected"),
    [
        (Stage.HANDLING, DUE - 2 * D, None),  # two days to go: nothing yet
        (Stage.HANDLING, DUE - 23 * H, ReminderReason.DUE_SOON),  # within a day of due
        (Stage.HANDLING, DUE, ReminderReason.DUE_SOON),  # due this very moment: not yet late
        (Stage.REPORTED, DUE + H, ReminderReason.OVERDUE),  # an hour late
        (Stage.VERIFYING, DUE + 30 * D, ReminderReason.OVERDUE),  # exactly 30 days late
        (Stage.HANDLING, DUE + 30 * D + H, ReminderReason.LONG_OVERDUE),  # more than 30 days
        (Stage.CLOSED, DUE + 40 * D, None),  # closed cases are nobody's reminder
        (Stage.CANCELLED, DUE + H, None),  # nor cancelled ones
    ],
)
def test_reminder_reason(stage: Stage, now: datetime, expected: ReminderReason | None) -> None:
    assert reminder_reason(stage, DUE, now, S) is expected


def _part(department: str, state: PartState) -> Part:
    return Part(department, state, T0)


@pytest.mark.parametrize(
    ("stage", "kind", "parts", "expected"),
    [
        # waiting to be registered or dispatched: the control room
        (Stage.REPORTED, Kind.HAZARD, (), (Holder(HolderKind.ROLE, "operator"),)),
        (Stage.REGISTERED, Kind.INCIDENT, (), (Holder(HolderKind.ROLE, "operator"),)),
        # out with departments: those whose part is not finished
        (
            Stage.HANDLING,
            Kind.HAZARD,
            (_part("police_station", PartState.DONE), _part("law_enforcement", PartState.ACCEPTED)),
            (Holder(HolderKind.DEPARTMENT, "law_enforcement"),),
        ),
        # an incident dispatched to nobody in particular: the responsible station
        (Stage.DISPATCHED, Kind.INCIDENT, (), (Holder(HolderKind.STATION, "MS-1"),)),
        # a hazard handled without departments (e.g. after a return): the control room
        (Stage.HANDLING, Kind.HAZARD, (), (Holder(HolderKind.ROLE, "operator"),)),
        # waiting for verification: the grid's inspector
        (Stage.VERIFYING, Kind.HAZARD, (), (Holder(HolderKind.GRID, "G-1"),)),
        # closed: nobody
        (Stage.CLOSED, Kind.HAZARD, (), ()),
    ],
)
def test_holders(
    stage: Stage, kind: Kind, parts: tuple[Part, ...], expected: tuple[Holder, ...]
) -> None:
    assert holders(stage, kind, parts, "G-1", "MS-1") == expected


def _facts(
    stage: Stage = Stage.REPORTED,
    supervision: Supervision = Supervision.NONE,
    due: datetime = T0 + 3 * D,
    previous: datetime | None = None,
) -> ListingFacts:
    return ListingFacts(stage, supervision, due, previous, T0)


@pytest.mark.parametrize(
    ("facts", "now", "expected"),
    [
        (_facts(), T0, None),  # a fresh case: nothing to list
        (_facts(previous=T0 - 89 * D), T0, Reason.LISTING_PROPOSED_RECURRENCE),  # back in 89 d
        (_facts(previous=T0 - 90 * D), T0, Reason.LISTING_PROPOSED_RECURRENCE),  # day 90 counts
        (_facts(previous=T0 - 91 * D), T0, None),  # back after 91 days: not a relapse
        (_facts(due=T0), T0 + 30 * D, None),  # overdue exactly 30 days: not yet
        (_facts(due=T0), T0 + 30 * D + H, Reason.LISTING_PROPOSED_OVERDUE),  # more than 30
        # already proposed or listed: no second proposal
        (_facts(due=T0, supervision=Supervision.STREET_PROPOSED), T0 + 40 * D, None),
        (_facts(due=T0, supervision=Supervision.DISTRICT), T0 + 40 * D, None),
        (_facts(stage=Stage.CLOSED, due=T0), T0 + 40 * D, None),  # closed cases are not listed
    ],
)
def test_listing_proposal(facts: ListingFacts, now: datetime, expected: Reason | None) -> None:
    assert listing_proposal(facts, now, S) is expected


@pytest.mark.parametrize(
    ("current", "level", "approve", "role", "expected"),
    [
        # the control room lists a proposed case at street level
        (Supervision.STREET_PROPOSED, Level.STREET, True, Role.OPERATOR, Reason.LISTED_STREET),
        # or rejects the proposal
        (Supervision.STREET_PROPOSED, Level.STREET, False, Role.OPERATOR, Reason.LISTING_REJECTED),
        # a case nobody proposed can be listed directly
        (Supervision.NONE, Level.STREET, True, Role.ADMIN, Reason.LISTED_STREET),
        # there is no proposal to reject
        (Supervision.NONE, Level.STREET, False, Role.OPERATOR, Refusal.NO_SUCH_MOVE),
        # district level is the admin's (the approver's) decision
        (Supervision.STREET, Level.DISTRICT, True, Role.ADMIN, Reason.LISTED_DISTRICT),
        (Supervision.STREET, Level.DISTRICT, True, Role.OPERATOR, Refusal.ROLE_NOT_ALLOWED),
        # inspectors, departments, stations and viewers decide no listing
        (Supervision.STREET_PROPOSED, Level.STREET, True, Role.INSPECTOR, Refusal.ROLE_NOT_ALLOWED),
        (Supervision.STREET_PROPOSED, Level.STREET, True, Role.VIEWER, Refusal.ROLE_NOT_ALLOWED),
        # listing again at the same or a lower level
        (Supervision.STREET, Level.STREET, True, Role.OPERATOR, Refusal.ALREADY_LISTED),
        (Supervision.DISTRICT, Level.STREET, True, Role.ADMIN, Refusal.ALREADY_LISTED),
    ],
)
def test_decide_listing(
    current: Supervision, level: Level, approve: bool, role: Role, expected: Reason | Refusal
) -> None:
    assert decide_listing(current, level, approve, role, Stage.HANDLING) is expected


def test_a_closed_case_takes_no_listing_decision() -> None:
    assert decide_listing(Supervision.NONE, Level.STREET, True, Role.ADMIN, Stage.CLOSED) is (
        Refusal.TERMINAL
    )


POLICE = Actor("u-p", Role.DEPARTMENT, "police_station")
_AS, _AC, _DN, _DC = PartState.ASSIGNED, PartState.ACCEPTED, PartState.DONE, PartState.DECLINED


@pytest.mark.parametrize(
    ("stage", "change", "actor", "note", "expected"),
    [
        (Stage.DISPATCHED, (_AS, _AC), POLICE, "", Reason.PART_ACCEPTED),  # its own part
        (Stage.HANDLING, (_AC, _DN), POLICE, "", Reason.PART_DONE),  # done with it
        (Stage.DISPATCHED, (_AS, _DC), POLICE, "不属本所", Reason.PART_DECLINED),  # not theirs
        (Stage.DISPATCHED, (_AS, _DC), POLICE, "", Refusal.NOTE_REQUIRED),  # declining says why
        # another department's user may not touch this part
        (
            Stage.DISPATCHED,
            (_AS, _AC),
            Actor("u-m", Role.DEPARTMENT, "market_supervision"),
            "",
            Refusal.NOT_YOUR_DEPARTMENT,
        ),
        # the control room may move any part
        (Stage.HANDLING, (_AC, _DN), Actor("u-o", Role.OPERATOR), "", Reason.PART_DONE),
        # inspectors and stations do not move department parts
        (Stage.HANDLING, (_AC, _DN), Actor("u-i", Role.INSPECTOR), "", Refusal.ROLE_NOT_ALLOWED),
        (Stage.HANDLING, (_AS, _DN), POLICE, "", Refusal.NO_SUCH_MOVE),  # done before accepting
        (Stage.VERIFYING, (_AC, _DN), POLICE, "", Refusal.NO_SUCH_MOVE),  # case not out any more
        (Stage.CLOSED, (_AC, _DN), POLICE, "", Refusal.TERMINAL),  # case closed
    ],
)
def test_decide_part(
    stage: Stage,
    change: tuple[PartState, PartState],
    actor: Actor,
    note: str,
    expected: Reason | Refusal,
) -> None:
    assert decide_part(stage, change, actor, "police_station", note) is expected


@pytest.mark.parametrize(
    ("category", "last", "now", "expected"),
    [
        # monthly (category 1): inspected this month
        (1, datetime(2026, 5, 2, tzinfo=UTC), datetime(2026, 5, 20, tzinfo=UTC), Coverage.COVERED),
        # inspected last month, not yet this month: due by the month's end
        (1, datetime(2026, 4, 10, tzinfo=UTC), datetime(2026, 5, 20, tzinfo=UTC), Coverage.DUE),
        # last inspected two months ago: it missed April
        (1, datetime(2026, 3, 10, tzinfo=UTC), datetime(2026, 5, 20, tzinfo=UTC), Coverage.OVERDUE),
        # never inspected
        (2, None, datetime(2026, 5, 20, tzinfo=UTC), Coverage.OVERDUE),
        # quarterly: inspected in the first quarter, now in the second: due by June's end
        (2, datetime(2026, 2, 1, tzinfo=UTC), datetime(2026, 5, 20, tzinfo=UTC), Coverage.DUE),
        # half-yearly: inspected in January covers the whole first half
        (3, datetime(2026, 1, 5, tzinfo=UTC), datetime(2026, 6, 29, tzinfo=UTC), Coverage.COVERED),
        # 23:30 on 30 April UTC is 1 May in Shanghai: it counts for May
        (
            1,
            datetime(2026, 4, 30, 23, 30, tzinfo=UTC),
            datetime(2026, 5, 20, tzinfo=UTC),
            Coverage.COVERED,
        ),
    ],
)
def test_coverage_state(
    category: int, last: datetime | None, now: datetime, expected: Coverage
) -> None:
    assert coverage_state(category, last, now, SHANGHAI) is expected


def test_failed_items_are_findings_one_per_hazard() -> None:
    found = findings_from_scan(
        scan(
            "V-SHOP", T0, 1, failed=("evacuation_clear", "kitchen_flue_cleaned", "evacuation_clear")
        )
    )
    assert [(f.hazard, f.kind, f.actor.role) for f in found] == [
        ("evacuation_blocked", Kind.HAZARD, Role.SYSTEM),  # mapped to its hazard name
        ("kitchen_flue_cleaned", Kind.HAZARD, Role.SYSTEM),  # a venue's own item, kept as is
    ]
    assert found[0].actor.actor_id == "scan:INSP-7"
    assert found[0].note == "现场: evacuation_clear"


@pytest.mark.parametrize(
    ("category", "hazard", "expected"),
    [
        (Category.HAZARD, "indoor_ebike_charging", "indoor_ebike_charging"),  # as named
        (Category.HAZARD, "sleeping_in_shop", "lodging"),  # a sensor's name for lodging
        (Category.HAZARD, None, "my_rule"),  # no hazard named: the rule's id
        (Category.FIRE, "indoor_ebike_charging", None),  # fire evidence is the alerting's
        (Category.TROUBLE, None, None),  # device trouble is maintenance, not a case
    ],
)
def test_finding_from_evidence(
    category: Category, hazard: str | None, expected: str | None
) -> None:
    finding = finding_from_evidence(
        evidence("V-HOME", T0, hazard, category=category, rule_id="my_rule")
    )
    assert (finding.hazard if finding else None) == expected
