"""Panel SQL as Grafana's PostgreSQL data source runs it: template variables, then macros.

Grafana expands a panel's SQL in two steps. The browser replaces template variables
(`$community`, `${venue}`, `[[kind]]`, the built-in `$__interval` and `$__interval_ms`); a
multi-value or include-all variable becomes a list of single-quoted literals, a single-value one
its value with quotes doubled. The server then expands the macros (`$__timeFilter(col)`,
`$__timeGroupAlias(col, 5m)`, `$__timeFrom()`, ...). Tests and the benchmark run every panel's
SQL through `expand` to get exactly what PostgreSQL would receive.

>>> from datetime import UTC, datetime, timedelta
>>> ctx = QueryContext(datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 3, 1, 6, tzinfo=UTC),
...                    timedelta(minutes=1), {"c": VariableValue(("a", "b'c"), multi=True)})
>>> expand("SELECT $__timeGroupAlias(ts, $__interval) FROM t WHERE c IN ($c)", ctx)
'SELECT floor(extract(epoch from ts)/60)*60 AS "time" FROM t WHERE c IN (\\'a\\',\\'b\\'\\'c\\')'
>>> expand("WHERE $__timeFilter(ts)", ctx)
"WHERE ts BETWEEN '2026-03-01T00:00:00Z' AND '2026-03-01T06:00:00Z'"
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Final

from firewatch.dashboards.errors import MacroError


@dataclass(frozen=True, slots=True)
class VariableValue:
    values: tuple[str, ...]
    multi: bool = False
    """Multi-value or include-all: every value is quoted (`'a','b'`), as Grafana does."""


@dataclass(frozen=True, slots=True)
class QueryContext:
    time_from: datetime
    time_to: datetime
    interval: timedelta
    variables: Mapping[str, VariableValue] = field(default_factory=dict)
    timescaledb: bool = False
    """The data source's TimescaleDB switch: `$__timeGroup` becomes `time_bucket`."""


# Grafana's `roundInterval`: (below this many ms, use this interval in ms).
_ROUND_MS: Final = (
    (15, 10), (35, 20), (75, 50), (150, 100), (350, 200), (750, 500), (1_500, 1_000),
    (3_500, 2_000), (7_500, 5_000), (12_500, 10_000), (17_500, 15_000), (25_000, 20_000),
    (45_000, 30_000), (90_000, 60_000), (210_000, 120_000), (450_000, 300_000),
    (750_000, 600_000), (1_050_000, 900_000), (1_500_000, 1_200_000), (2_700_000, 1_800_000),
    (5_400_000, 3_600_000), (9_000_000, 7_200_000), (16_200_000, 10_800_000),
    (32_400_000, 21_600_000), (86_400_000, 43_200_000), (604_800_000, 86_400_000),
    (1_814_400_000, 604_800_000), (3_628_800_000, 2_592_000_000),
)  # fmt: skip
_YEAR_MS: Final = 31_536_000_000
_UNIT_S: Final = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}
_DURATION: Final = re.compile(r"^(\d+(?:\.\d+)?)(ms|s|m|h|d|w|y)$")
_VARIABLE: Final = re.compile(
    r"\$(\w+)|\[\[(\w+?)(?::(\w+))?\]\]|\$\{(\w+)(?:\.[^:^}]+)?(?::([^}]+))?\}"
)
_MACRO: Final = re.compile(r"\$__([_a-zA-Z0-9]+)\(([^)]*)\)")


def parse_duration(text: str) -> timedelta:
    """Grafana's interval syntax.

    >>> parse_duration("5m"), parse_duration("1d")
    (datetime.timedelta(seconds=300), datetime.timedelta(days=1))
    """
    match = _DURATION.match(text.strip().strip("'\""))
    if match is None:
        raise MacroError(f"not a Grafana interval: {text!r} (expected e.g. 30s, 5m, 1h, 1d)")
    return timedelta(seconds=float(match[1]) * _UNIT_S[match[2]])


def interval_text(interval: timedelta) -> str:
    """Grafana's `secondsToHms`: the largest whole unit, as `$__interval` shows it.

    >>> interval_text(timedelta(seconds=20)), interval_text(timedelta(hours=1))
    ('20s', '1h')
    """
    seconds = interval.total_seconds()
    rest = seconds
    for unit, size in (("y", 31536000), ("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        whole = int(rest // size)
        if whole:
            return f"{whole}{unit}"
        rest %= size
    return f"{int(seconds * 1000)}ms"


def grafana_interval(
    time_from: datetime, time_to: datetime, max_points: int, min_interval: str | None
) -> timedelta:
    """`$__interval` for a range: the range over the panel's data points, rounded to a nice
    step (Grafana's `roundInterval`), and never below the panel's minimum interval.

    >>> from datetime import UTC
    >>> t = datetime(2026, 3, 1, tzinfo=UTC)
    >>> grafana_interval(t, t + timedelta(hours=6), 1000, None)
    datetime.timedelta(seconds=20)
    >>> grafana_interval(t, t + timedelta(hours=6), 1000, "1m")
    datetime.timedelta(seconds=60)
    """
    raw_ms = (time_to - time_from).total_seconds() * 1000 / max_points
    rounded = next((ms for below, ms in _ROUND_MS if raw_ms < below), _YEAR_MS)
    step = timedelta(milliseconds=rounded)
    low = parse_duration(min_interval) if min_interval else timedelta(milliseconds=1)
    return max(step, low)


def _rfc3339(moment: datetime) -> str:
    """Go's RFC3339Nano in UTC: trailing zeros of the fraction dropped, `Z` for UTC."""
    text = moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f").rstrip("0").rstrip(".")
    return text + "Z"


def _number(seconds: float) -> str:
    """Go's `%v` of a float64: no trailing `.0`."""
    return str(int(seconds)) if seconds == int(seconds) else repr(seconds)


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _format(name: str, value: VariableValue, fmt: str | None) -> str:
    if fmt is None:
        if value.multi:
            return ",".join(_quote(v) for v in value.values)
        return ",".join(v.replace("'", "''") for v in value.values)
    if fmt == "raw":
        return ",".join(value.values)
    if fmt == "csv":
        return ",".join(value.values)
    if fmt in ("singlequote", "sqlstring"):
        return ",".join(_quote(v) for v in value.values)
    raise MacroError(f"variable ${{{name}:{fmt}}}: format {fmt!r} is not supported here")


def interpolate_variables(sql: str, ctx: QueryContext) -> str:
    """Step one, in the browser: template variables and the built-in interval variables."""
    interval_ms = int(ctx.interval.total_seconds() * 1000)
    range_ms = int((ctx.time_to - ctx.time_from).total_seconds() * 1000)
    builtins = {
        "__interval": interval_text(ctx.interval),
        "__interval_ms": str(interval_ms),
        "__range": interval_text(ctx.time_to - ctx.time_from),
        "__range_s": str(range_ms // 1000),
        "__range_ms": str(range_ms),
        "__from": str(int(ctx.time_from.timestamp() * 1000)),
        "__to": str(int(ctx.time_to.timestamp() * 1000)),
    }

    def replace(match: re.Match[str]) -> str:
        name = match[1] or match[2] or match[4]
        fmt = match[3] or match[5]
        if name in builtins:
            return builtins[name]
        if name.startswith("__"):
            return match[0]  # a server-side macro (step two), or nothing Grafana knows
        value = ctx.variables.get(name)
        if value is None:
            raise MacroError(f"template variable ${name} has no value in this context")
        return _format(name, value, fmt)

    return _VARIABLE.sub(replace, sql)


def _group(ctx: QueryContext, args: list[str]) -> str:
    if len(args) < 2:
        raise MacroError("$__timeGroup needs a column and an interval")
    seconds = parse_duration(args[1]).total_seconds()
    if ctx.timescaledb:
        return f"time_bucket('{seconds:.3f}s',{args[0]})"
    return f"floor(extract(epoch from {args[0]})/{_number(seconds)})*{_number(seconds)}"


def _macro(ctx: QueryContext, name: str, args: list[str]) -> str:
    start, end = _rfc3339(ctx.time_from), _rfc3339(ctx.time_to)
    from_s, to_s = int(ctx.time_from.timestamp()), int(ctx.time_to.timestamp())
    column = args[0]
    if name in ("time", "timeEpoch", "timeFilter", "unixEpochFilter") and not column:
        raise MacroError(f"$__{name} needs a column")
    if name in ("timeGroup", "timeGroupAlias"):
        alias = ' AS "time"' if name == "timeGroupAlias" else ""
        return _group(ctx, args) + alias
    simple = {
        "time": f'{column} AS "time"',
        "timeEpoch": f'extract(epoch from {column}) as "time"',
        "timeFilter": f"{column} BETWEEN '{start}' AND '{end}'",
        "timeFrom": f"'{start}'",
        "timeTo": f"'{end}'",
        "unixEpochFilter": f"{column} >= {from_s} AND {column} <= {to_s}",
        "unixEpochFrom": str(from_s),
        "unixEpochTo": str(to_s),
    }
    if name not in simple:
        raise MacroError(f"undefined macro: $__{name}")
    return simple[name]


def expand_macros(sql: str, ctx: QueryContext) -> str:
    """Step two, on the server: Grafana's PostgreSQL macros."""

    def replace(match: re.Match[str]) -> str:
        args = [a.strip() for a in match[2].split(",")]
        return _macro(ctx, match[1], args)

    return _MACRO.sub(replace, sql)


def expand(sql: str, ctx: QueryContext) -> str:
    """What PostgreSQL receives for a panel's SQL in this context."""
    return expand_macros(interpolate_variables(sql, ctx), ctx)
