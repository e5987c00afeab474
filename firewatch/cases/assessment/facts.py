"""What the monthly assessment (考核) is computed from, and how it is read from the store.

`collect` reads the cases stage's tables, the registry, `venue_scan` (inspections),
`device_liveness` (device online rate, a snapshot at the time of the report) and, if it
exists, the alerting stage's `alert` table (acknowledgement times); without it those columns
are n/a. `compute` (pure) turns the facts into the report.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import date, datetime
from zoneinfo import ZoneInfo

import psycopg

from firewatch.cases.inspections import local_start, window


@dataclass(frozen=True, slots=True)
class Month:
    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Month:
        """
        >>> Month.parse("2026-05")
        Month(year=2026, month=5)
        """
        match = re.fullmatch(r"(\d{4})-(\d{2})", text)
        if match is None or not 1 <= int(match[2]) <= 12:
            raise ValueError(f"expected a month as YYYY-MM, got {text!r}")
        if not 2000 <= int(match[1]) <= 2999:
            raise ValueError(f"expected a month of the years 2000 to 2999, got {text!r}")
        return cls(int(match[1]), int(match[2]))

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def next_first_day(self) -> date:
        return date(self.year + self.month // 12, self.month % 12 + 1, 1)

    def bounds(self, zone: ZoneInfo) -> tuple[datetime, datetime]:
        """[start, end) of the month in `zone`."""
        return local_start(self.first_day, zone), local_start(self.next_first_day, zone)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


@dataclass(frozen=True, slots=True)
class CaseFact:
    case_id: str
    community: str
    kind: str  # hazard, incident
    stage: str
    opened_at: datetime
    closed_at: datetime | None
    due_at: datetime
    recurrence_of: str | None
    supervision: str


@dataclass(frozen=True, slots=True)
class PartFact:
    case_id: str
    department: str
    state: str
    assigned_at: datetime
    done_at: datetime | None


@dataclass(frozen=True, slots=True)
class VenueFact:
    venue_id: str
    community: str
    category: int
    inspections: tuple[datetime, ...]  # inspection scans before the end of the month


@dataclass(frozen=True, slots=True)
class AlertFact:
    community: str
    opened_at: datetime
    confirmed_at: datetime | None
    acked_at: datetime | None


@dataclass(frozen=True, slots=True)
class DeviceFact:
    community: str
    online: bool


@dataclass(frozen=True, slots=True)
class Facts:
    month: Month
    zone: ZoneInfo
    departments: tuple[str, ...]  # the configured ones, listed even without parts
    cases: tuple[CaseFact, ...]
    parts: tuple[PartFact, ...]
    venues: tuple[VenueFact, ...]
    alerts: tuple[AlertFact, ...] | None  # None: the alert table does not exist (yet)
    devices: tuple[DeviceFact, ...]


def _alerts(
    conn: psycopg.Connection, start: datetime, end: datetime
) -> tuple[AlertFact, ...] | None:
    exists = conn.execute("SELECT to_regclass('alert') IS NOT NULL").fetchone()
    if exists is None or not exists[0]:
        return None
    rows = conn.execute(
        "SELECT v.community, a.opened_at, a.confirmed_at, a.acked_at FROM alert a"
        " JOIN venue v ON v.venue_id = a.venue_id WHERE a.opened_at >= %s AND a.opened_at < %s",
        (start, end),
    ).fetchall()
    return tuple(AlertFact(str(c), o, f, a) for c, o, f, a in rows)


def collect(
    conn: psycopg.Connection, month: Month, zone: ZoneInfo, departments: tuple[str, ...]
) -> Facts:
    start, end = month.bounds(zone)
    # Inspections from the start of the longest cycle window that ends in or contains the month.
    since = local_start(window(3, month.first_day)[0], zone)
    cases = tuple(
        CaseFact(*row)
        for row in conn.execute(
            "SELECT case_id, community, kind, stage, opened_at, closed_at, due_at, recurrence_of,"
            " supervision FROM hazard_case WHERE opened_at < %s"
            " AND (closed_at IS NULL OR closed_at >= %s) ORDER BY case_id",
            (end, start),
        )
    )
    parts = tuple(
        PartFact(*row)
        for row in conn.execute(
            "SELECT case_id, department, state, assigned_at, done_at FROM case_part"
            " WHERE assigned_at < %s ORDER BY case_id, department",
            (end,),
        )
    )
    venues = tuple(
        VenueFact(str(v), str(c), int(k), tuple(ts or ()))
        for v, c, k, ts in conn.execute(
            "SELECT v.venue_id, v.community, v.category,"
            " array_agg(s.ts ORDER BY s.ts) FILTER (WHERE s.ts IS NOT NULL)"
            " FROM venue v LEFT JOIN venue_scan s ON s.venue_id = v.venue_id"
            "  AND s.scan_type = 'inspection' AND s.ts >= %s AND s.ts < %s"
            " GROUP BY v.venue_id ORDER BY v.venue_id",
            (since, end),
        )
    )
    devices = tuple(
        DeviceFact(str(c), bool(online))
        for c, online in conn.execute(
            "SELECT v.community, coalesce(l.online, false) FROM device d"
            " JOIN venue v ON v.venue_id = d.venue_id"
            " LEFT JOIN device_liveness l ON l.device_id = d.device_id"
        )
    )
    return Facts(month, zone, departments, cases, parts, venues, _alerts(conn, start, end), devices)


def within(facts: Facts, communities: Collection[str]) -> Facts:
    """The facts of these communities only: the report a community-scoped reader may see,
    its total being theirs, its departments ranked on their parts of these cases."""
    keep = set(communities)
    cases = tuple(c for c in facts.cases if c.community in keep)
    ids = {c.case_id for c in cases}
    alerts = facts.alerts
    return replace(
        facts,
        cases=cases,
        parts=tuple(p for p in facts.parts if p.case_id in ids),
        venues=tuple(v for v in facts.venues if v.community in keep),
        alerts=None if alerts is None else tuple(a for a in alerts if a.community in keep),
        devices=tuple(d for d in facts.devices if d.community in keep),
    )
