"""One venue in depth: its readings per device, its risk over time, its alerts and cases.

Readings come from the raw table for ranges up to 26 hours (every sample) and from the hourly
rollup beyond that; each query holds both branches and PostgreSQL runs only the one whose
constant condition on the range is true.
"""

from __future__ import annotations

from typing import Final

from firewatch.dashboards.model import Board, Panel, PanelType, Variable, VariableKind, time_group

RAW_UP_TO: Final = "26 hours"
_RANGE = "$__timeTo()::timestamptz - $__timeFrom()::timestamptz"
_VENUE = "venue_id = '$venue' AND device_id IN ($device)"


def _series(
    key: str,
    title: str,
    *,
    kinds: str,
    column: str,
    rolled: str,
    unit: str,
    thresholds: tuple[tuple[float | None, str], ...] = (),
) -> Panel:
    """A per-device series of one reading field: `max(column)` raw, `rolled` hourly."""
    sql = f"""SELECT {time_group("ts")}, device_id AS metric,
       max({column}) AS {column}
FROM reading
WHERE {_VENUE} AND kind IN ({kinds}) AND $__timeFilter(ts)
  AND {_RANGE} <= interval '{RAW_UP_TO}'
GROUP BY 1, 2
UNION ALL
SELECT {time_group("bucket")}, device_id, {rolled}
FROM reading_hourly
WHERE {_VENUE} AND kind IN ({kinds}) AND $__timeFilter(bucket)
  AND {_RANGE} > interval '{RAW_UP_TO}'
GROUP BY 1, 2
ORDER BY 1"""
    return Panel(key, title, PanelType.TIMESERIES, sql, ("time", "metric", column),
                 ("reading", "reading_hourly"), unit=unit, min_interval="1m",
                 thresholds=thresholds, threshold_lines=bool(thresholds))  # fmt: skip


SMOKE = _series(
    "smoke",
    "Smoke obscuration",
    kinds="'smoke'",
    column="smoke_obs",
    rolled="max(smoke_obs_max)",
    unit="suffix:%/m",
)
TEMPERATURE = _series(
    "temperature",
    "Temperature",
    kinds="'smoke', 'charging'",
    column="temp_c",
    rolled="max(temp_c_max)",
    unit="celsius",
)
CO = _series(
    "co",
    "CO",
    kinds="'smoke', 'charging'",
    column="co_ppm",
    rolled="max(co_ppm_max)",
    unit="ppm",
)
GAS = _series(
    "gas",
    "可燃气体浓度 / Combustible gas (% LEL)",
    kinds="'gas'",
    column="lel_pct",
    rolled="max(lel_pct_max)",
    unit="suffix:% LEL",
    # 20 %: the detector alarm band (the contract puts a detector's low setpoint at 25 % LEL
    # or below; 20 % is the usual one); 50 %: half-way to an explosive mixture
    thresholds=((None, "green"), (20, "orange"), (50, "red")),
)
POWER = _series(
    "power",
    "Charging power",
    kinds="'charging'",
    column="power_w",
    rolled="max(power_w_max)",
    unit="watt",
)
STILL = _series(
    "still_minutes", "Presence without movement (sleeping)", kinds="'occupancy'",
    column="still_minutes", rolled="max(still_minutes_max)", unit="m",
)  # fmt: skip

INFO = Panel(
    "venue_info",
    "Venue",
    PanelType.TABLE,
    """SELECT v.venue_id, v.name, v.venue_type, v.category, v.address, v.grid,
       s.name AS station,
       (SELECT count(*) FROM device d
         WHERE d.venue_id = v.venue_id AND d.retired_at IS NULL) AS devices,
       (SELECT count(*) FROM alert a
         WHERE a.venue_id = v.venue_id AND a.state <> 'resolved') AS open_alerts,
       (SELECT count(*) FROM hazard_case c
         WHERE c.venue_id = v.venue_id AND c.stage NOT IN ('closed', 'cancelled')) AS open_cases
FROM venue v
JOIN station s ON s.station_id = v.station_id
WHERE v.venue_id = '$venue'""",
    ("venue_id", "name", "venue_type", "category", "address", "grid", "station", "devices",
     "open_alerts", "open_cases"),
    ("venue", "station", "device", "alert", "hazard_case"),
    width=24,
    height=4,
)  # fmt: skip

RISK = Panel(
    "venue_risk",
    "Risk over time",
    PanelType.TIMESERIES,
    """SELECT $__timeGroupAlias(at, $__interval, previous), max(score) AS risk
FROM risk_score
WHERE scope = 'venue' AND venue_id = '$venue' AND $__timeFilter(at)
GROUP BY 1
ORDER BY 1""",
    ("time", "risk"),
    ("risk_score",),
    min_interval="1m",
    thresholds=((None, "green"), (25, "blue"), (50, "yellow"), (75, "orange"), (90, "red")),
)

ALERTS = Panel(
    "venue_alerts",
    "Alerts (opened in range, or still open)",
    PanelType.TABLE,
    """SELECT a.alert_id, a.kind, a.level, a.state, a.opened_at, a.confirmed_at, a.acked_at,
       a.acked_by, a.resolved_at, a.resolution, a.summary
FROM alert a
WHERE a.venue_id = '$venue' AND ($__timeFilter(a.opened_at) OR a.state <> 'resolved')
ORDER BY a.opened_at DESC
LIMIT 200""",
    ("alert_id", "kind", "level", "state", "opened_at", "confirmed_at", "acked_at", "acked_by",
     "resolved_at", "resolution", "summary"),
    ("alert",),
)  # fmt: skip

CASES = Panel(
    "venue_cases",
    "Cases (opened in range, or still open)",
    PanelType.TABLE,
    """SELECT c.case_id, c.kind, c.hazard, c.stage, c.source, c.opened_at, c.due_at, c.closed_at,
       c.supervision, c.found_count
FROM hazard_case c
WHERE c.venue_id = '$venue'
  AND ($__timeFilter(c.opened_at) OR c.stage NOT IN ('closed', 'cancelled'))
ORDER BY c.opened_at DESC
LIMIT 200""",
    ("case_id", "kind", "hazard", "stage", "source", "opened_at", "due_at", "closed_at",
     "supervision", "found_count"),
    ("hazard_case",),
)  # fmt: skip

EVENTS = Panel(
    "venue_events",
    "Device events",
    PanelType.TABLE,
    f"""SELECT ts, device_id, kind, event, port, car, floor, confidence, lel_pct
FROM device_event
WHERE {_VENUE} AND $__timeFilter(ts)
ORDER BY ts DESC
LIMIT 200""",
    ("ts", "device_id", "kind", "event", "port", "car", "floor", "confidence", "lel_pct"),
    ("device_event",),
)

DEVICES = Panel(
    "venue_devices",
    "Devices",
    PanelType.TABLE,
    """SELECT d.device_id, d.kind, d.location, l.online, l.last_seen_at, l.battery_pct,
       l.rssi_dbm, l.fw
FROM device d
LEFT JOIN device_liveness l ON l.device_id = d.device_id
WHERE d.venue_id = '$venue' AND d.retired_at IS NULL
ORDER BY d.kind, d.device_id""",
    ("device_id", "kind", "location", "online", "last_seen_at", "battery_pct", "rssi_dbm", "fw"),
    ("device", "device_liveness"),
)


def board() -> Board:
    community = Variable(
        "community",
        "Community (居委)",
        VariableKind.QUERY,
        query="SELECT DISTINCT community FROM venue WHERE retired_at IS NULL ORDER BY 1",
    )
    venue = Variable(
        "venue",
        "Venue",
        VariableKind.QUERY,
        query="SELECT venue_id AS __value, name || ' (' || venue_id || ')' AS __text FROM venue"
        " WHERE community = '$community' AND retired_at IS NULL ORDER BY name",
    )
    device = Variable(
        "device",
        "Devices",
        VariableKind.QUERY,
        query="SELECT device_id FROM device WHERE venue_id = '$venue' AND retired_at IS NULL"
        " ORDER BY device_id",
        multi=True,
        include_all=True,
    )
    return Board(
        uid="fw-venue",
        title="Firewatch · Venue",
        description="One venue: readings per device, risk over time, alerts, cases, events.",
        time_from="now-24h",
        refresh="1m",
        variables=(community, venue, device),
        panels=(
            INFO,
            SMOKE,
            TEMPERATURE,
            CO,
            GAS,
            POWER,
            STILL,
            RISK,
            ALERTS,
            CASES,
            EVENTS,
            DEVICES,
        ),
    )
