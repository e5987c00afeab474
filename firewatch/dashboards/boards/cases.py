"""The office's hazard cases: where they stand, what is overdue, what is listed, how fast they
close, and how the departments keep up."""

from __future__ import annotations

from firewatch.dashboards.model import (
    Board,
    Panel,
    PanelType,
    community_variable,
    timezone_variable,
)

_OPEN_STAGES = (
    "ARRAY['discovered', 'reported', 'registered', 'dispatched', 'handling', 'verifying']"
)
_OPEN = "c.stage NOT IN ('closed', 'cancelled')"

BY_STAGE = Panel(
    "cases_by_stage",
    "Open cases by stage",
    PanelType.BARCHART,
    f"""SELECT s.stage,
       count(c.case_id) FILTER (WHERE c.due_at >= $__timeTo()) AS on_time,
       count(c.case_id) FILTER (WHERE c.due_at < $__timeTo()) AS overdue
FROM unnest({_OPEN_STAGES}) WITH ORDINALITY AS s(stage, rank)
LEFT JOIN hazard_case c ON c.stage = s.stage AND c.community IN ($community)
GROUP BY s.stage, s.rank
ORDER BY s.rank""",
    ("stage", "on_time", "overdue"),
    ("hazard_case",),
    width=12,
    stacked=True,
)

OVERDUE_COUNT = Panel(
    "overdue_count",
    "Overdue",
    PanelType.STAT,
    f"""SELECT count(*) AS overdue, count(*) FILTER (WHERE c.supervision <> 'none') AS listed
FROM hazard_case c
WHERE {_OPEN} AND c.due_at < $__timeTo() AND c.community IN ($community)""",
    ("overdue", "listed"),
    ("hazard_case",),
    width=4,
    thresholds=((None, "green"), (1, "orange")),
)

TIME_TO_CLOSE = Panel(
    "time_to_close",
    "Time to close (hours, by day closed)",
    PanelType.TIMESERIES,
    """SELECT date_trunc('day', c.closed_at, '$tz') AS time,
       avg(extract(epoch FROM c.closed_at - c.opened_at)) / 3600 AS mean_h,
       percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM c.closed_at - c.opened_at))
           / 3600 AS p90_h
FROM hazard_case c
WHERE c.stage = 'closed' AND $__timeFilter(c.closed_at) AND c.community IN ($community)
GROUP BY 1
ORDER BY 1""",
    ("time", "mean_h", "p90_h"),
    ("hazard_case",),
    width=8,
    unit="h",
)

OPENED_CLOSED = Panel(
    "opened_closed",
    "Cases opened and closed per day",
    PanelType.TIMESERIES,
    """SELECT time, metric, count(*) AS cases
FROM (
    SELECT date_trunc('day', c.opened_at, '$tz') AS time, 'opened' AS metric
    FROM hazard_case c WHERE $__timeFilter(c.opened_at) AND c.community IN ($community)
    UNION ALL
    SELECT date_trunc('day', c.closed_at, '$tz'), 'closed'
    FROM hazard_case c
    WHERE c.stage = 'closed' AND $__timeFilter(c.closed_at) AND c.community IN ($community)
) e
GROUP BY 1, 2
ORDER BY 1""",
    ("time", "metric", "cases"),
    ("hazard_case",),
    width=12,
)

BY_DEPARTMENT = Panel(
    "cases_by_department",
    "Joint handling by department",
    PanelType.BARCHART,
    """SELECT p.department,
       count(*) FILTER (WHERE p.state IN ('assigned', 'accepted')) AS open,
       count(*) FILTER (WHERE p.state IN ('assigned', 'accepted')
                          AND c.due_at < $__timeTo()) AS overdue,
       count(*) FILTER (WHERE p.state = 'done' AND $__timeFilter(p.done_at)) AS done,
       count(*) FILTER (WHERE p.state = 'declined') AS declined
FROM case_part p
JOIN hazard_case c ON c.case_id = p.case_id
WHERE c.community IN ($community)
GROUP BY p.department
ORDER BY p.department""",
    ("department", "open", "overdue", "done", "declined"),
    ("case_part", "hazard_case"),
    width=12,
)

OVERDUE_CASES = Panel(
    "overdue_cases",
    "Overdue cases",
    PanelType.TABLE,
    f"""SELECT c.case_id, c.hazard, c.stage, v.name AS venue, c.community, c.grid, c.opened_at,
       c.due_at, round(extract(epoch FROM $__timeTo()::timestamptz - c.due_at) / 3600) AS overdue_h,
       c.supervision
FROM hazard_case c
JOIN venue v ON v.venue_id = c.venue_id
WHERE {_OPEN} AND c.due_at < $__timeTo() AND c.community IN ($community)
ORDER BY c.due_at
LIMIT 500""",
    ("case_id", "hazard", "stage", "venue", "community", "grid", "opened_at", "due_at",
     "overdue_h", "supervision"),
    ("hazard_case", "venue"),
    width=24,
    height=9,
)  # fmt: skip

SUPERVISION = Panel(
    "supervision_list",
    "Listed for supervision (挂牌督办)",
    PanelType.TABLE,
    """SELECT l.case_id, l.level, l.state, l.venue_name AS venue, l.community, l.hazard, l.stage,
       l.proposed_at, l.decided_at, l.due_at
FROM case_supervision_list l
WHERE l.community IN ($community)
ORDER BY l.level DESC, l.proposed_at""",
    ("case_id", "level", "state", "venue", "community", "hazard", "stage", "proposed_at",
     "decided_at", "due_at"),
    ("case_supervision_list",),
    width=24,
)  # fmt: skip


def board(zone: str) -> Board:
    return Board(
        uid="fw-cases",
        title="Firewatch · Cases",
        description="Hazard cases by stage, overdue, listed for supervision, time to close.",
        time_from="now-30d",
        refresh="5m",
        variables=(community_variable(multi=True), timezone_variable(zone)),
        panels=(
            BY_STAGE,
            OVERDUE_COUNT,
            TIME_TO_CLOSE,
            OPENED_CLOSED,
            BY_DEPARTMENT,
            OVERDUE_CASES,
            SUPERVISION,
        ),
    )
