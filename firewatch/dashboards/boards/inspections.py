"""Inspection coverage in the current cycle (category 1 monthly, 2 quarterly, 3 half-yearly,
calendar windows in the local zone), as `cases/inspections.py` defines it, as of the end of the
dashboard's range."""

from __future__ import annotations

from firewatch.dashboards.model import (
    Board,
    Panel,
    PanelType,
    Variable,
    VariableKind,
    community_variable,
    timezone_variable,
)

# One row a venue: its cycle's window, its last inspection, and its state (covered, due, overdue).
_COVERAGE = """WITH asof AS (
    SELECT $__timeTo()::timestamptz AS at, $__timeTo()::timestamptz AT TIME ZONE '$tz' AS local
),
cycle AS (
    SELECT v.venue_id, v.name, v.community, v.grid, v.category, m.months, a.at,
           date_trunc('month', a.local)
             - make_interval(months => (extract(month FROM a.local)::int - 1) % m.months) AS starts
    FROM venue v
    CROSS JOIN asof a
    JOIN (VALUES (1, 1), (2, 3), (3, 6)) AS m(category, months) ON m.category = v.category
    WHERE v.retired_at IS NULL AND v.community IN ($community) AND v.category IN ($category)
),
coverage AS (
    SELECT c.venue_id, c.name, c.community, c.grid, c.category, c.at, i.last_at,
           CASE WHEN i.last_at >= c.starts AT TIME ZONE '$tz' THEN 'covered'
                WHEN i.last_at >= (c.starts - make_interval(months => c.months)) AT TIME ZONE '$tz'
                    THEN 'due'
                ELSE 'overdue' END AS state
    FROM cycle c
    LEFT JOIN LATERAL (
        SELECT max(s.ts) AS last_at FROM venue_scan s
        WHERE s.venue_id = c.venue_id AND s.scan_type = 'inspection' AND s.ts <= c.at
    ) i ON true
)
"""

COVERAGE_BY_COMMUNITY = Panel(
    "coverage_by_community",
    "Coverage this cycle, by community and category",
    PanelType.TABLE,
    _COVERAGE
    + """SELECT community, category, count(*) AS venues,
       count(*) FILTER (WHERE state = 'covered') AS covered,
       count(*) FILTER (WHERE state = 'due') AS due,
       count(*) FILTER (WHERE state = 'overdue') AS overdue,
       round(100.0 * count(*) FILTER (WHERE state = 'covered') / count(*), 1) AS coverage_pct
FROM coverage
GROUP BY community, category
ORDER BY community, category""",
    ("community", "category", "venues", "covered", "due", "overdue", "coverage_pct"),
    ("venue", "venue_scan"),
    width=16,
    height=10,
)

COVERAGE_NOW = Panel(
    "coverage_now",
    "Covered this cycle",
    PanelType.STAT,
    _COVERAGE
    + """SELECT round(100.0 * count(*) FILTER (WHERE state = 'covered') / nullif(count(*), 0), 1)
           AS coverage_pct,
       count(*) FILTER (WHERE state = 'overdue') AS overdue_venues
FROM coverage""",
    ("coverage_pct", "overdue_venues"),
    ("venue", "venue_scan"),
    width=8,
    height=10,
    thresholds=((None, "red"), (80, "orange"), (95, "green")),
)

OVERDUE_VENUES = Panel(
    "overdue_venues",
    "Venues overdue for inspection",
    PanelType.TABLE,
    _COVERAGE
    + """SELECT venue_id, name, community, grid, category, last_at AS last_inspected_at,
       floor(extract(epoch FROM at - last_at) / 86400) AS days_since
FROM coverage
WHERE state = 'overdue'
ORDER BY last_at NULLS FIRST, venue_id""",
    ("venue_id", "name", "community", "grid", "category", "last_inspected_at", "days_since"),
    ("venue", "venue_scan"),
    width=24,
    height=10,
)

SCANS_PER_DAY = Panel(
    "scans_per_day",
    "Scans per day by type",
    PanelType.TIMESERIES,
    """SELECT date_trunc('day', s.ts, '$tz') AS time, s.scan_type AS metric, count(*) AS scans
FROM venue_scan s
JOIN venue v ON v.venue_id = s.venue_id
WHERE $__timeFilter(s.ts) AND v.community IN ($community) AND v.category IN ($category)
GROUP BY 1, 2
ORDER BY 1""",
    ("time", "metric", "scans"),
    ("venue_scan", "venue"),
    width=24,
    stacked=True,
)


def board(zone: str) -> Board:
    category = Variable(
        "category",
        "Category (1 monthly, 2 quarterly, 3 half-yearly)",
        VariableKind.CUSTOM,
        values=("1", "2", "3"),
        multi=True,
        include_all=True,
    )
    return Board(
        uid="fw-inspections",
        title="Firewatch · Inspections",
        description="Inspection coverage per community and category in the current cycle.",
        time_from="now-30d",
        refresh="15m",
        variables=(community_variable(multi=True), category, timezone_variable(zone)),
        panels=(COVERAGE_BY_COMMUNITY, COVERAGE_NOW, OVERDUE_VENUES, SCANS_PER_DAY),
    )
