"""The fleet: offline, low battery, tamper and faults, rejected messages, who reports daily."""

from __future__ import annotations

from firewatch.dashboards.model import (
    Board,
    Panel,
    PanelType,
    Variable,
    VariableKind,
    community_variable,
    time_group,
)
from firewatch.kernel.contract import DeviceKind

_SCOPE = (
    "v.community IN ($community) AND d.kind IN ($kind) AND d.retired_at IS NULL"
)  # fmt: skip
_TROUBLE = ("tamper", "fault", "low_battery", "overcurrent", "overtemp", "short_circuit")

OFFLINE = Panel(
    "offline_devices",
    "Offline devices",
    PanelType.TABLE,
    f"""SELECT d.device_id, d.kind, v.name AS venue, v.community, d.location, l.offline_since,
       extract(epoch FROM $__timeTo()::timestamptz - l.offline_since)::bigint AS offline_s,
       l.offline_reason, l.last_seen_at
FROM device_liveness l
JOIN device d ON d.device_id = l.device_id
JOIN venue v ON v.venue_id = d.venue_id
WHERE NOT l.online AND {_SCOPE}
ORDER BY l.offline_since NULLS LAST
LIMIT 500""",
    ("device_id", "kind", "venue", "community", "location", "offline_since", "offline_s",
     "offline_reason", "last_seen_at"),
    ("device_liveness", "device", "venue"),
    width=16,
    height=9,
)  # fmt: skip

OFFLINE_BY_KIND = Panel(
    "offline_by_kind",
    "Offline or never seen, by kind",
    PanelType.BARGAUGE,
    f"""SELECT d.kind, count(*) FILTER (WHERE l.online IS NOT TRUE OR l.last_seen_at IS NULL)
           AS offline
FROM device d
JOIN venue v ON v.venue_id = d.venue_id
LEFT JOIN device_liveness l ON l.device_id = d.device_id
WHERE {_SCOPE}
GROUP BY d.kind
ORDER BY d.kind""",
    ("kind", "offline"),
    ("device", "venue", "device_liveness"),
    width=8,
    height=9,
    thresholds=((None, "green"), (1, "orange")),
)

LOW_BATTERY = Panel(
    "low_battery",
    "Low battery (below 20 %)",
    PanelType.TABLE,
    f"""SELECT d.device_id, d.kind, v.name AS venue, v.community, d.location, l.battery_pct,
       l.status_at
FROM device_liveness l
JOIN device d ON d.device_id = l.device_id
JOIN venue v ON v.venue_id = d.venue_id
WHERE l.battery_pct < 20 AND {_SCOPE}
ORDER BY l.battery_pct, d.device_id
LIMIT 500""",
    ("device_id", "kind", "venue", "community", "location", "battery_pct", "status_at"),
    ("device_liveness", "device", "venue"),
    width=12,
)

TROUBLE = Panel(
    "trouble_events",
    "Tamper and fault events",
    PanelType.TABLE,
    f"""SELECT e.device_id, d.kind, v.name AS venue, v.community, e.event, count(*) AS events,
       max(e.ts) AS last_at
FROM device_event e
JOIN device d ON d.device_id = e.device_id
JOIN venue v ON v.venue_id = e.venue_id
WHERE $__timeFilter(e.ts) AND e.event IN ($event) AND {_SCOPE}
GROUP BY e.device_id, d.kind, v.name, v.community, e.event
ORDER BY last_at DESC
LIMIT 500""",
    ("device_id", "kind", "venue", "community", "event", "events", "last_at"),
    ("device_event", "device", "venue"),
    width=12,
)

TROUBLE_OVER_TIME = Panel(
    "trouble_over_time",
    "Tamper and fault events over time",
    PanelType.TIMESERIES,
    f"""SELECT {time_group("e.ts")}, e.event AS metric, count(*) AS events
FROM device_event e
JOIN device d ON d.device_id = e.device_id
JOIN venue v ON v.venue_id = e.venue_id
WHERE $__timeFilter(e.ts) AND e.event IN ($event) AND {_SCOPE}
GROUP BY 1, 2
ORDER BY 1""",
    ("time", "metric", "events"),
    ("device_event", "device", "venue"),
    width=12,
    min_interval="5m",
    stacked=True,
)

REJECTED = Panel(
    "rejected_by_reason",
    "Rejected messages by reason",
    PanelType.TIMESERIES,
    f"""SELECT {time_group("received_at")}, reason AS metric, count(*) AS messages
FROM rejected_message
WHERE $__timeFilter(received_at)
GROUP BY 1, 2
ORDER BY 1""",
    ("time", "metric", "messages"),
    ("rejected_message",),
    width=16,
    min_interval="1m",
    stacked=True,
)

REJECTED_TOTALS = Panel(
    "rejected_totals",
    "Rejected in range, by reason",
    PanelType.PIECHART,
    """SELECT reason, count(*) AS messages
FROM rejected_message
WHERE $__timeFilter(received_at)
GROUP BY reason
ORDER BY messages DESC""",
    ("reason", "messages"),
    ("rejected_message",),
    width=8,
)

REPORTING = Panel(
    "reporting_per_day",
    "Devices reporting per day",
    PanelType.TIMESERIES,
    """SELECT r.day AS time, count(DISTINCT r.device_id) AS reporting
FROM reading_daily r
JOIN venue v ON v.venue_id = r.venue_id
WHERE $__timeFilter(r.day) AND v.community IN ($community) AND r.kind IN ($kind)
GROUP BY 1
ORDER BY 1""",
    ("time", "reporting"),
    ("reading_daily", "venue"),
    width=12,
)

READINGS_PER_DAY = Panel(
    "readings_per_day",
    "Readings per day by kind",
    PanelType.TIMESERIES,
    """SELECT r.day AS time, r.kind AS metric, sum(r.n) AS readings
FROM reading_daily r
JOIN venue v ON v.venue_id = r.venue_id
WHERE $__timeFilter(r.day) AND v.community IN ($community) AND r.kind IN ($kind)
GROUP BY 1, 2
ORDER BY 1""",
    ("time", "metric", "readings"),
    ("reading_daily", "venue"),
    width=12,
    stacked=True,
)


def board() -> Board:
    kind = Variable(
        "kind",
        "Device kind",
        VariableKind.CUSTOM,
        values=tuple(k.value for k in DeviceKind),
        multi=True,
        include_all=True,
    )
    event = Variable(
        "event", "Event", VariableKind.CUSTOM, values=_TROUBLE, multi=True, include_all=True
    )
    return Board(
        uid="fw-devices",
        title="Firewatch · Devices",
        description="Offline, low battery, tamper and faults, rejected messages.",
        time_from="now-7d",
        refresh="1m",
        variables=(community_variable(multi=True), kind, event),
        panels=(
            OFFLINE,
            OFFLINE_BY_KIND,
            LOW_BATTERY,
            TROUBLE,
            TROUBLE_OVER_TIME,
            REJECTED,
            REJECTED_TOTALS,
            REPORTING,
            READINGS_PER_DAY,
        ),
    )
