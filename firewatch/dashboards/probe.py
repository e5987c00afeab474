"""Running a board's panels as Grafana would, for the tests and the benchmark: variables
resolved by their own queries (an include-all variable set to All, as Grafana's All sends every
option), `$__interval` from the range and the panel's minimum interval, the SQL expanded and
executed, and the result checked against what the panel type needs to draw."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import psycopg

from firewatch.dashboards.errors import ProbeError
from firewatch.dashboards.macros import QueryContext, VariableValue, expand, grafana_interval
from firewatch.dashboards.model import Board, Panel, PanelType, Variable, VariableKind

MAX_POINTS = 1000  # a full-width panel on a desk screen
NUMERIC = {20, 21, 23, 700, 701, 1700}  # int8, int2, int4, float4, float8, numeric
TEXT = {25, 1043}
TIME = {1184, 1114}  # timestamptz, timestamp


def resolve_variables(
    conn: psycopg.Connection, board: Board, now: datetime, preferred: Mapping[str, str]
) -> dict[str, VariableValue]:
    """Each variable's value: All for include-all ones, else the preferred option (or the
    first); query variables are run in order, each seeing the ones before it."""
    values: dict[str, VariableValue] = {}
    for variable in board.variables:
        options = _options(conn, variable, now, values)
        if not options:
            raise ProbeError(f"variable ${variable.name} of {board.uid} has no options")
        if variable.multi or variable.include_all:
            values[variable.name] = VariableValue(tuple(options), multi=True)
        else:
            chosen = preferred.get(variable.name)
            values[variable.name] = VariableValue((chosen if chosen in options else options[0],))
    return values


def _options(
    conn: psycopg.Connection, variable: Variable, now: datetime, known: dict[str, VariableValue]
) -> list[str]:
    if variable.kind is not VariableKind.QUERY:
        return list(variable.values)
    ctx = QueryContext(now, now, grafana_interval(now, now, MAX_POINTS, None), known)
    with conn.cursor() as cur:
        cur.execute(expand(variable.query, ctx).encode())
        names = [c.name for c in cur.description or ()]
        rows = cur.fetchall()
    column = names.index("__value") if "__value" in names else 0
    return [str(row[column]) for row in rows]


def run_panel(
    conn: psycopg.Connection,
    panel: Panel,
    time_from: datetime,
    time_to: datetime,
    variables: Mapping[str, VariableValue],
) -> tuple[list[str], list[int], list[tuple[Any, ...]]]:
    """(column names, type oids, rows) of the panel's query over [time_from, time_to]."""
    interval = grafana_interval(time_from, time_to, MAX_POINTS, panel.min_interval)
    sql = expand(panel.sql, QueryContext(time_from, time_to, interval, variables))
    with conn.cursor() as cur:
        cur.execute(sql.encode())
        description = cur.description or ()
        return [c.name for c in description], [c.type_code for c in description], cur.fetchall()


def shape_problems(
    panel: Panel, names: Sequence[str], types: Sequence[int], rows: Sequence[tuple[Any, ...]]
) -> list[str]:
    """What Grafana could not draw from this result, as readable problems (empty: fine)."""
    problems = []
    if tuple(names) != panel.columns:
        problems.append(f"columns {tuple(names)} != declared {panel.columns}")
        return problems
    kinds = dict(zip(names, types, strict=True))
    values = [n for n in names if n not in ("time", "metric")]
    if panel.type is PanelType.TIMESERIES:
        if names[0] != "time" or kinds["time"] not in NUMERIC | TIME:
            problems.append("a time series needs a first column `time` (epoch or timestamp)")
        if "metric" in kinds and kinds["metric"] not in TEXT:
            problems.append("the `metric` column must be text")
        times = [row[0] for row in rows]
        if times != sorted(times):
            problems.append("rows are not in time order")
    elif panel.type is PanelType.GEOMAP:
        for name in ("latitude", "longitude", panel.color_field or "latitude"):
            if kinds.get(name) not in NUMERIC:
                problems.append(f"a geomap needs a numeric `{name}`")
        values = []
    elif panel.type in (PanelType.BARGAUGE, PanelType.BARCHART, PanelType.PIECHART):
        if kinds[names[0]] not in TEXT:
            problems.append(f"{panel.type} needs a text first column for the bar or slice names")
        values = list(names[1:])
    elif panel.type is PanelType.TABLE:
        values = []
    not_numeric = [n for n in values if kinds[n] not in NUMERIC]
    if not_numeric:
        problems.append(f"value columns that are not numeric: {not_numeric}")
    return problems
