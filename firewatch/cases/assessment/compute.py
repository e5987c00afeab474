"""The monthly assessment (考核), computed from facts: pure, so a hand-counted fixture checks it.

Per community (居委), for the month [start, end) in the configured zone:

- inspections required: venues whose inspection window ends in the month (category 1 every
  month, 2 at the end of each quarter, 3 at the end of each half-year); done: those of them
  inspected in their window; scans: inspection scans in the month.
- hazards found: hazard cases opened in the month, not cancelled by its end; closed: hazard
  cases closed in it; median hours from opening to closure of those closed.
- overdue: hazard cases still open at the end of the month past their due time.
- recurrences: cases opened in the month that repeat a hazard closed within 90 days.
- listed: cases under listed supervision (street or district) open during the month.
- alerts and the median seconds from confirmation (or opening) to acknowledgement.
- device online rate: devices online now (`device_liveness`) over devices registered.

The score (0-100) weighs inspection coverage 40, closure 30 (closed / cases open during the
month), timeliness 20 (1 - overdue / cases open during the month) and device online rate 10;
a part without data is left out and the others re-weighted. Ranks are competition ranks.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from statistics import median
from typing import TypeVar

from firewatch.cases.assessment.facts import CaseFact, Facts, PartFact
from firewatch.cases.inspections import local_start, window
from firewatch.cases.settings import DEPARTMENT_LABELS


@dataclass(frozen=True, slots=True)
class CommunityRow:
    community: str
    venues: int
    inspections_required: int
    inspections_done: int
    inspection_scans: int
    hazards_found: int
    hazards_closed: int
    median_hours_to_close: float | None
    overdue: int
    recurrences: int
    listed: int
    alerts: int | None  # None: no alert table
    ack_median_s: float | None
    device_online_rate: float | None
    score: float | None
    rank: int = 0


@dataclass(frozen=True, slots=True)
class DepartmentRow:
    department: str
    label: str
    parts_assigned: int
    parts_done: int
    declined: int
    median_hours_to_done: float | None
    cases_closed: int
    overdue: int
    recurrences: int
    score: float | None
    rank: int = 0


@dataclass(frozen=True, slots=True)
class Assessment:
    month: str
    timezone: str
    communities: tuple[CommunityRow, ...]  # in rank order
    departments: tuple[DepartmentRow, ...]  # in rank order
    total: CommunityRow  # the whole subdistrict
    alerts_available: bool


def _in(at: datetime | None, start: datetime, end: datetime) -> bool:
    return at is not None and start <= at < end


def _hours(pairs: Sequence[tuple[datetime, datetime]]) -> float | None:
    return round(median((b - a).total_seconds() / 3600 for a, b in pairs), 1) if pairs else None


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _score(parts: Sequence[tuple[float | None, float]]) -> float | None:
    known = [(value, weight) for value, weight in parts if value is not None]
    if not known:
        return None
    return round(100 * sum(v * w for v, w in known) / sum(w for _, w in known), 1)


def _cancelled_by(case: CaseFact, end: datetime) -> bool:
    return case.stage == "cancelled" and case.closed_at is not None and case.closed_at < end


def _open_at(case: CaseFact, end: datetime) -> bool:
    return case.opened_at < end and (case.closed_at is None or case.closed_at >= end)


def _community(name: str, facts: Facts, keep: Callable[[str], bool]) -> CommunityRow:
    start, end = facts.month.bounds(facts.zone)
    zone, first_day = facts.zone, facts.month.first_day
    venues = [v for v in facts.venues if keep(v.community)]
    required = done = scans = 0
    for venue in venues:
        scans += sum(1 for ts in venue.inspections if start <= ts < end)
        w_start, w_end = window(venue.category, first_day)
        if w_end != facts.month.next_first_day:
            continue
        required += 1
        low = local_start(w_start, zone)
        done += any(low <= ts < end for ts in venue.inspections)
    hazards = [c for c in facts.cases if keep(c.community) and c.kind == "hazard"]
    live = [c for c in hazards if not _cancelled_by(c, end)]
    found = [c for c in live if _in(c.opened_at, start, end)]
    closed = [c for c in live if c.stage == "closed" and _in(c.closed_at, start, end)]
    overdue = [c for c in live if _open_at(c, end) and c.due_at < end]
    recurrences = sum(
        1
        for c in facts.cases
        if keep(c.community) and _in(c.opened_at, start, end) and c.recurrence_of
    )
    listed = sum(
        1 for c in facts.cases if keep(c.community) and c.supervision in ("street", "district")
    )
    alerts = None if facts.alerts is None else [a for a in facts.alerts if keep(a.community)]
    acks = [((a.confirmed_at or a.opened_at), a.acked_at) for a in alerts or () if a.acked_at]
    devices = [d for d in facts.devices if keep(d.community)]
    online = _ratio(sum(d.online for d in devices), len(devices))
    coverage = _ratio(done, required)
    score = _score(
        [
            (coverage, 40),
            (_ratio(len(closed), len(live)), 30),
            (None if not live else 1 - len(overdue) / len(live), 20),
            (online, 10),
        ]
    )
    return CommunityRow(
        name,
        len(venues),
        required,
        done,
        scans,
        len(found),
        len(closed),
        _hours([(c.opened_at, c.closed_at) for c in closed if c.closed_at]),
        len(overdue),
        recurrences,
        listed,
        None if alerts is None else len(alerts),
        round(median((b - a).total_seconds() for a, b in acks), 1) if acks else None,
        None if online is None else round(online, 4),
        score,
    )


def _department(name: str, parts: Sequence[PartFact], facts: Facts) -> DepartmentRow:
    start, end = facts.month.bounds(facts.zone)
    cases = {c.case_id: c for c in facts.cases}
    mine = [p for p in parts if p.department == name and p.case_id in cases]
    assigned = [p for p in mine if _in(p.assigned_at, start, end)]
    done = [p for p in mine if p.state == "done" and _in(p.done_at, start, end)]
    declined = [p for p in assigned if p.state == "declined"]
    live = [p for p in mine if p.state != "declined" and (p.done_at is None or p.done_at >= start)]
    closed = {
        p.case_id
        for p in live
        if cases[p.case_id].stage == "closed" and _in(cases[p.case_id].closed_at, start, end)
    }
    overdue = [
        p
        for p in live
        if (p.done_at is None or p.done_at >= end)
        and _open_at(cases[p.case_id], end)
        and cases[p.case_id].due_at < end
    ]
    recurrences = sum(1 for p in assigned if cases[p.case_id].recurrence_of)
    score = _score(
        [
            (_ratio(len(done), len(live)), 60),
            (None if not live else 1 - len(overdue) / len(live), 40),
        ]
    )
    return DepartmentRow(
        name,
        DEPARTMENT_LABELS.get(name, name),
        len(assigned),
        len(done),
        len(declined),
        _hours([(p.assigned_at, p.done_at) for p in done if p.done_at]),
        len(closed),
        len(overdue),
        recurrences,
        score,
    )


Row = TypeVar("Row", CommunityRow, DepartmentRow)


def rank(rows: Sequence[Row], name: Callable[[Row], str]) -> tuple[Row, ...]:
    """Best score first (no score last), ties by name; equal scores share a rank (1, 1, 3).

    >>> rows = [_blank("b", 50.0), _blank("a", 80.0), _blank("c", 50.0), _blank("d", None)]
    >>> [(r.community, r.rank) for r in rank(rows, lambda r: r.community)]
    [('a', 1), ('b', 2), ('c', 2), ('d', 4)]
    """
    ordered = sorted(rows, key=lambda r: (r.score is None, -(r.score or 0.0), name(r)))
    out: list[Row] = []
    for index, row in enumerate(ordered, start=1):
        tied = out and out[-1].score == row.score and row.score is not None
        place = out[-1].rank if tied else index
        out.append(replace(row, rank=place))
    return tuple(out)


def _blank(name: str, score: float | None) -> CommunityRow:
    return CommunityRow(name, 0, 0, 0, 0, 0, 0, None, 0, 0, 0, None, None, None, score)


def compute(facts: Facts) -> Assessment:
    names = sorted({v.community for v in facts.venues} | {c.community for c in facts.cases})
    communities = [_community(n, facts, n.__eq__) for n in names]
    departments = list(dict.fromkeys([*facts.departments, *(p.department for p in facts.parts)]))
    return Assessment(
        month=str(facts.month),
        timezone=str(facts.zone),
        communities=rank(communities, lambda r: r.community),
        departments=rank(
            [_department(d, facts.parts, facts) for d in departments], lambda r: r.department
        ),
        total=_community("全街道 subdistrict", facts, lambda _c: True),
        alerts_available=facts.alerts is not None,
    )
