"""Grafana's expansion of panel SQL, case by case, as its PostgreSQL data source does it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from firewatch.dashboards.errors import MacroError
from firewatch.dashboards.macros import (
    QueryContext,
    VariableValue,
    expand,
    grafana_interval,
    interval_text,
)

T0 = datetime(2026, 3, 1, 0, 0, tzinfo=UTC)
T1 = datetime(2026, 3, 1, 6, 0, 0, 250000, tzinfo=UTC)
VARS = {
    "community": VariableValue(("桃源居委", "O'Brien"), multi=True),
    "venue": VariableValue(("V0001",)),
    "quoted": VariableValue(("it's",)),
    "kind": VariableValue(("smoke",), multi=True),
}
CTX = QueryContext(T0, T1, timedelta(minutes=5), VARS)

EXPANSIONS = [
    # a time filter: BETWEEN two RFC 3339 instants in UTC, fraction kept, trailing zeros dropped
    ("$__timeFilter(ts)", "ts BETWEEN '2026-03-01T00:00:00Z' AND '2026-03-01T06:00:00.25Z'"),
    # the range's ends as quoted literals
    ("$__timeFrom()::timestamptz", "'2026-03-01T00:00:00Z'::timestamptz"),
    ("$__timeTo()", "'2026-03-01T06:00:00.25Z'"),
    # time groups: epoch seconds floored to the interval, `$__interval` replaced first
    ("$__timeGroup(ts, $__interval)", "floor(extract(epoch from ts)/300)*300"),
    ("$__timeGroupAlias(bucket, 1h)", 'floor(extract(epoch from bucket)/3600)*3600 AS "time"'),
    # a fill mode changes what Grafana does with gaps, not the SQL
    ("$__timeGroupAlias(at, 1m, previous)", 'floor(extract(epoch from at)/60)*60 AS "time"'),
    # a quoted interval argument
    ("$__timeGroup(ts, '30s')", "floor(extract(epoch from ts)/30)*30"),
    # the built-in interval variables
    ("$__interval_ms / 1000", "300000 / 1000"),
    ("'$__interval'", "'5m'"),
    # a multi-value variable: each value quoted, quotes doubled, comma-separated
    ("community IN ($community)", "community IN ('桃源居委','O''Brien')"),
    # braces and the legacy [[ ]] form name the same variable
    ("IN (${community})", "IN ('桃源居委','O''Brien')"),
    ("kind IN ([[kind]])", "kind IN ('smoke')"),
    # a single-value variable: the bare value, so the SQL writes the quotes
    ("venue_id = '$venue'", "venue_id = 'V0001'"),
    ("x = '$quoted'", "x = 'it''s'"),
    # explicit formats
    ("${community:csv}", "桃源居委,O'Brien"),
    ("${venue:sqlstring}", "'V0001'"),
    # the epoch macros
    ("$__unixEpochFilter(t)", "t >= 1772323200 AND t <= 1772344800"),
    ("$__time(ts)", 'ts AS "time"'),
]


@pytest.mark.parametrize(("sql", "expected"), EXPANSIONS)
def test_expansion(sql: str, expected: str) -> None:
    assert expand(sql, CTX) == expected


def test_timescaledb_groups_with_time_bucket() -> None:
    ctx = QueryContext(T0, T1, timedelta(minutes=1), VARS, timescaledb=True)
    assert expand("$__timeGroup(ts, $__interval)", ctx) == "time_bucket('60.000s',ts)"


REFUSED = [
    # a variable the dashboard does not define
    ("WHERE x = '$nope'", "template variable $nope"),
    # a macro Grafana's PostgreSQL data source does not have
    ("$__timeFoo(ts)", "undefined macro: $__timeFoo"),
    # a time group without its interval
    ("$__timeGroup(ts)", "needs a column and an interval"),
    # an interval Grafana cannot parse
    ("$__timeGroup(ts, soon)", "not a Grafana interval"),
]


@pytest.mark.parametrize(("sql", "message"), REFUSED)
def test_refused(sql: str, message: str) -> None:
    with pytest.raises(MacroError, match=message.replace("$", r"\$")):
        expand(sql, CTX)


INTERVALS = [
    # (range, data points, panel minimum, $__interval)
    (timedelta(hours=6), 1000, None, "20s"),  # 21.6 s rounds to 20 s
    (timedelta(hours=6), 1000, "1m", "1m"),  # the panel's minimum wins
    (timedelta(hours=24), 1000, None, "1m"),  # 86.4 s
    (timedelta(days=7), 1000, None, "10m"),  # 604.8 s
    (timedelta(days=30), 1000, None, "30m"),  # 2592 s
    (timedelta(days=30), 500, None, "1h"),  # a half-width panel
    (timedelta(days=365), 1000, None, "6h"),  # 31536 s
]


@pytest.mark.parametrize(("span", "points", "minimum", "text"), INTERVALS)
def test_interval(span: timedelta, points: int, minimum: str | None, text: str) -> None:
    assert interval_text(grafana_interval(T0, T0 + span, points, minimum)) == text
