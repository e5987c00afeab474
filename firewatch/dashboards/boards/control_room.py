"""The wall screen: live alerts, the map, risk by community, ingest, devices online."""

from __future__ import annotations

from firewatch.dashboards.model import (
    LEVELS_SQL,
    Board,
    Panel,
    PanelType,
    community_variable,
    time_group,
)

_IN_SCOPE = "v.community IN ($community) AND v.retired_at IS NULL"

LIVE_ALERTS = Panel(
    "live_alerts",
    "Live alerts",
    PanelType.TABLE,
    f"""SELECT a.alert_id, a.level, a.kind, a.state, v.name AS venue, v.community, v.address,
       a.opened_at,
       extract(epoch FROM $__timeTo()::timestamptz - a.opened_at)::bigint AS age_s,
       a.acked_at IS NOT NULL AS acknowledged, a.acked_by
FROM alert a
JOIN venue v ON v.venue_id = a.venue_id
WHERE a.state <> 'resolved' AND {_IN_SCOPE}
ORDER BY array_position({LEVELS_SQL}, a.level), a.opened_at
LIMIT 200""",
    ("alert_id", "level", "kind", "state", "venue", "community", "address", "opened_at",
     "age_s", "acknowledged", "acked_by"),
    ("alert", "venue"),
    width=24,
    height=9,
    description="Every alert not yet resolved, most urgent first; age up to the end of the range.",
)  # fmt: skip

ALERTS_BY_LEVEL = Panel(
    "alerts_by_level",
    "Open alerts by level",
    PanelType.BARGAUGE,
    f"""SELECT l.level, count(a.alert_id) AS alerts
FROM unnest({LEVELS_SQL}) WITH ORDINALITY AS l(level, rank)
LEFT JOIN (alert a JOIN venue v ON v.venue_id = a.venue_id AND {_IN_SCOPE})
       ON a.level = l.level AND a.state <> 'resolved'
GROUP BY l.level, l.rank
ORDER BY l.rank""",
    ("level", "alerts"),
    ("alert", "venue"),
    width=8,
    height=7,
    thresholds=((None, "green"), (1, "red")),
)

UNACKNOWLEDGED = Panel(
    "unacknowledged",
    "Waiting for acknowledgement",
    PanelType.STAT,
    f"""SELECT count(*) FILTER (WHERE a.state = 'confirmed') AS confirmed_unacknowledged,
       count(*) FILTER (WHERE a.state = 'pending') AS pending_verification
FROM alert a
JOIN venue v ON v.venue_id = a.venue_id
WHERE a.state IN ('pending', 'confirmed') AND {_IN_SCOPE}""",
    ("confirmed_unacknowledged", "pending_verification"),
    ("alert", "venue"),
    width=8,
    height=7,
    thresholds=((None, "green"), (1, "red")),
)

DEVICES_ONLINE = Panel(
    "devices_online",
    "Devices online",
    PanelType.STAT,
    f"""SELECT count(*) FILTER (WHERE l.online AND l.last_seen_at IS NOT NULL) AS online,
       count(*) FILTER (WHERE NOT l.online) AS offline,
       count(*) FILTER (WHERE l.last_seen_at IS NULL) AS never_seen
FROM device d
JOIN venue v ON v.venue_id = d.venue_id
LEFT JOIN device_liveness l ON l.device_id = d.device_id
WHERE d.retired_at IS NULL AND {_IN_SCOPE}""",
    ("online", "offline", "never_seen"),
    ("device", "venue", "device_liveness"),
    width=8,
    height=7,
)

VENUE_MAP = Panel(
    "venue_map",
    "Venues by risk and alerts",
    PanelType.GEOMAP,
    f"""SELECT v.venue_id, v.name, v.community, v.lat AS latitude, v.lon AS longitude,
       coalesce(r.score, 0) AS risk, r.level AS risk_level, a.level AS alert_level,
       coalesce(a.open_alerts, 0) AS open_alerts,
       greatest(coalesce(r.score, 0),
                CASE a.level WHEN 'red' THEN 100 WHEN 'orange' THEN 75
                             WHEN 'yellow' THEN 50 WHEN 'blue' THEN 25 ELSE 0 END) AS severity
FROM venue v
LEFT JOIN LATERAL (
    SELECT s.score, s.level FROM risk_score s
    WHERE s.scope = 'venue' AND s.venue_id = v.venue_id AND s.at <= $__timeTo()
    ORDER BY s.at DESC LIMIT 1
) r ON true
LEFT JOIN LATERAL (
    SELECT count(*) AS open_alerts,
           (array_agg(al.level ORDER BY array_position({LEVELS_SQL}, al.level)))[1] AS level
    FROM alert al WHERE al.venue_id = v.venue_id AND al.state <> 'resolved'
) a ON true
WHERE {_IN_SCOPE}""",
    ("venue_id", "name", "community", "latitude", "longitude", "risk", "risk_level",
     "alert_level", "open_alerts", "severity"),
    ("venue", "risk_score", "alert"),
    width=14,
    height=14,
    color_field="severity",
    thresholds=((None, "green"), (25, "blue"), (50, "yellow"), (75, "orange"), (90, "red")),
    description="Colour: the higher of the venue's latest risk score and its open alert's level.",
)  # fmt: skip

RISK_BY_COMMUNITY_NOW = Panel(
    "risk_by_community_now",
    "Risk by community (latest)",
    PanelType.BARGAUGE,
    """SELECT c.community, coalesce(r.score, 0) AS risk
FROM (SELECT DISTINCT community FROM venue WHERE community IN ($community)) c
LEFT JOIN LATERAL (
    SELECT s.score FROM risk_score s
    WHERE s.scope = 'community' AND s.community = c.community AND s.at <= $__timeTo()
    ORDER BY s.at DESC LIMIT 1
) r ON true
ORDER BY risk DESC, c.community""",
    ("community", "risk"),
    ("venue", "risk_score"),
    width=10,
    height=7,
    thresholds=((None, "green"), (25, "blue"), (50, "yellow"), (75, "orange"), (90, "red")),
)

RISK_BY_COMMUNITY = Panel(
    "risk_by_community",
    "Risk by community",
    PanelType.TIMESERIES,
    """SELECT $__timeGroupAlias(at, $__interval, previous), community AS metric, max(score) AS risk
FROM risk_score
WHERE scope = 'community' AND $__timeFilter(at) AND community IN ($community)
GROUP BY 1, 2
ORDER BY 1""",
    ("time", "metric", "risk"),
    ("risk_score",),
    width=10,
    height=7,
    min_interval="1m",
)

READINGS_RATE = Panel(
    "readings_rate",
    "Readings per minute (device time)",
    PanelType.TIMESERIES,
    f"""SELECT {time_group("bucket")}, kind AS metric,
       sum(n) / ($__interval_ms / 60000.0) AS readings_per_min
FROM ingest_minute
WHERE $__timeFilter(bucket)
GROUP BY 1, 2
ORDER BY 1""",
    ("time", "metric", "readings_per_min"),
    ("ingest_minute",),
    min_interval="1m",
    stacked=True,
)

INGEST_LAG = Panel(
    "ingest_lag",
    "Ingest lag (received - measured)",
    PanelType.TIMESERIES,
    f"""SELECT {time_group("bucket")},
       sum(lag_ms_sum) / nullif(sum(n), 0) AS mean_lag_ms, max(lag_ms_max) AS max_lag_ms
FROM ingest_minute
WHERE $__timeFilter(bucket)
GROUP BY 1
ORDER BY 1""",
    ("time", "mean_lag_ms", "max_lag_ms"),
    ("ingest_minute",),
    unit="ms",
    min_interval="1m",
)

EVALUATION_LAG = Panel(
    "evaluation_lag",
    "Evaluation lag (stored, not yet evaluated)",
    PanelType.TABLE,
    """SELECT w.stage, w.partition,
       round(coalesce(extract(epoch FROM now() - min(b.committed_at)), 0)::numeric, 1) AS lag_s,
       count(b.pos) AS batches_waiting
FROM stage_watermark w
LEFT JOIN ingest_batch b ON b.partition = w.partition AND b.pos > w.pos
GROUP BY w.stage, w.partition
ORDER BY lag_s DESC, w.stage, w.partition""",
    ("stage", "partition", "lag_s", "batches_waiting"),
    ("stage_watermark", "ingest_batch"),
    width=8,
    height=7,
    description="Per stage and engine partition, the age of the oldest stored input the stage has"
    " not yet evaluated (watermarks are stored within a second of the work). Above 10 s the"
    " control room is told.",
    thresholds=((None, "green"), (10, "red")),
)


def board() -> Board:
    return Board(
        uid="fw-control-room",
        title="Firewatch · Control room",
        description="Live alerts, venues on the map, risk by community, ingest and devices.",
        time_from="now-6h",
        refresh="30s",
        variables=(community_variable(multi=True),),
        panels=(
            LIVE_ALERTS,
            ALERTS_BY_LEVEL,
            UNACKNOWLEDGED,
            DEVICES_ONLINE,
            VENUE_MAP,
            RISK_BY_COMMUNITY_NOW,
            RISK_BY_COMMUNITY,
            READINGS_RATE,
            INGEST_LAG,
            EVALUATION_LAG,
        ),
    )
