"""Inspection cycles and coverage: each venue's category sets its cycle (1 monthly,
2 quarterly, 3 half-yearly), in calendar windows of the local zone; inspection scans count.

A venue is COVERED when inspected in its current window, DUE while the window is open and it
has not been, and OVERDUE when its previous window ended without an inspection and none came
since. Overdue venues are reported to their grid's staff (`cases.reminders`).

>>> from datetime import date
>>> window(2, date(2026, 5, 17))
(datetime.date(2026, 4, 1), datetime.date(2026, 7, 1))
>>> window(3, date(2026, 11, 2))
(datetime.date(2026, 7, 1), datetime.date(2027, 1, 1))
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from enum import StrEnum
from typing import Final
from zoneinfo import ZoneInfo

import psycopg

CYCLE_MONTHS: Final = {1: 1, 2: 3, 3: 6}
"""Inspection tier -> cycle length in months (CONTRACT.md section 2)."""


class Coverage(StrEnum):
    COVERED = "covered"
    DUE = "due"
    OVERDUE = "overdue"


@dataclass(frozen=True, slots=True)
class VenueCoverage:
    venue_id: str
    name: str
    community: str
    grid: str
    category: int
    last_inspected_at: datetime | None
    window_end: date  # the current window ends the day before this (exclusive bound)
    state: Coverage


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def window(category: int, day: date) -> tuple[date, date]:
    """The calendar window [start, end) of `category`'s cycle that contains `day`."""
    length = CYCLE_MONTHS[category]
    start_month = (day.month - 1) // length * length + 1
    start = date(day.year, start_month, 1)
    return start, _add_months(start, length)


def local_start(day: date, zone: ZoneInfo) -> datetime:
    """Midnight at the start of `day` in `zone`, as an aware datetime."""
    return datetime.combine(day, time(0), zone)


def coverage_state(
    category: int, last_inspected: datetime | None, now: datetime, zone: ZoneInfo
) -> Coverage:
    start, _ = window(category, now.astimezone(zone).date())
    previous_start = _add_months(start, -CYCLE_MONTHS[category])
    if last_inspected is not None and last_inspected >= local_start(start, zone):
        return Coverage.COVERED
    if last_inspected is not None and last_inspected >= local_start(previous_start, zone):
        return Coverage.DUE
    return Coverage.OVERDUE


def coverage(conn: psycopg.Connection, now: datetime, zone: ZoneInfo) -> list[VenueCoverage]:
    """Every venue's inspection coverage at `now` (inspections up to `now` count)."""
    rows = conn.execute(
        "SELECT v.venue_id, v.name, v.community, v.grid, v.category, max(s.ts)"
        " FROM venue v LEFT JOIN venue_scan s ON s.venue_id = v.venue_id"
        "  AND s.scan_type = 'inspection' AND s.ts <= %s"
        " GROUP BY v.venue_id ORDER BY v.community, v.grid, v.venue_id",
        (now,),
    ).fetchall()
    today = now.astimezone(zone).date()
    return [
        VenueCoverage(
            str(venue_id),
            str(name),
            str(community),
            str(grid),
            int(category),
            last,
            window(int(category), today)[1],
            coverage_state(int(category), last, now, zone),
        )
        for venue_id, name, community, grid, category, last in rows
    ]


def overdue_by_grid(venues: list[VenueCoverage]) -> dict[str, list[VenueCoverage]]:
    """The overdue venues, per grid, for the grid staff."""
    out: dict[str, list[VenueCoverage]] = {}
    for venue in venues:
        if venue.state is Coverage.OVERDUE:
            out.setdefault(venue.grid, []).append(venue)
    return out
