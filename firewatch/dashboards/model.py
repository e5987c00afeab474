"""What a board is made of, as plain frozen records: rendering, tests and the benchmark read
these; nothing here knows Grafana's JSON (that is `render.py`)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final

DATASOURCE_TYPE: Final = "grafana-postgresql-datasource"
DATASOURCE_UID: Final = "firewatch-pg"
DATASOURCE_NAME: Final = "firewatch"


class PanelType(StrEnum):
    TIMESERIES = "timeseries"
    STAT = "stat"
    TABLE = "table"
    GEOMAP = "geomap"
    BARGAUGE = "bargauge"
    BARCHART = "barchart"
    PIECHART = "piechart"


class Format(StrEnum):
    """The query's result format in Grafana."""

    TIME_SERIES = "time_series"
    TABLE = "table"


FORMAT: Final[dict[PanelType, Format]] = {
    PanelType.TIMESERIES: Format.TIME_SERIES,
    **{t: Format.TABLE for t in PanelType if t is not PanelType.TIMESERIES},
}


@dataclass(frozen=True, slots=True)
class Panel:
    key: str
    """Stable and unique on its board: the panel id is its position, this is its name in tests."""
    title: str
    type: PanelType
    sql: str
    columns: tuple[str, ...]
    """What the query returns, in order; the test checks it against the real schema."""
    tables: tuple[str, ...]
    """What it reads; a panel whose table does not exist yet is skipped by the tests."""
    width: int = 12
    height: int = 8
    unit: str | None = None
    min_interval: str | None = None
    description: str = ""
    thresholds: tuple[tuple[float | None, str], ...] = ()
    """(from value, colour) steps; the first step's value is None (the base)."""
    color_field: str | None = None
    """Geomap: the field that colours the markers."""
    stacked: bool = False
    threshold_lines: bool = False
    """Time series: draw the thresholds as dashed lines across the graph (alarm bands)."""


class VariableKind(StrEnum):
    QUERY = "query"
    CUSTOM = "custom"
    CONSTANT = "constant"


@dataclass(frozen=True, slots=True)
class Variable:
    name: str
    label: str
    kind: VariableKind
    query: str = ""
    """SQL for a query variable (may use `__text` and `__value` columns)."""
    values: tuple[str, ...] = ()
    """The options of a custom variable, the value of a constant."""
    multi: bool = False
    include_all: bool = False


@dataclass(frozen=True, slots=True)
class Board:
    uid: str
    title: str
    description: str
    time_from: str
    refresh: str
    variables: tuple[Variable, ...]
    panels: tuple[Panel, ...]
    tags: tuple[str, ...] = ("firewatch",)

    def panel(self, key: str) -> Panel:
        return next(p for p in self.panels if p.key == key)


LEVELS_SQL: Final = "ARRAY['red', 'orange', 'yellow', 'blue']"
"""Warning levels, most urgent first: `array_position(LEVELS, level)` sorts by urgency."""


def time_group(column: str) -> str:
    """`$__timeGroupAlias(column, $__interval)` in integer arithmetic: the same buckets (aligned
    to the epoch) and the same `time` column, but `date_bin` instead of Grafana's
    `floor(extract(epoch ...))`, which is numeric since PostgreSQL 14 and costs twice as much
    over a month of rows. Panels that want Grafana to fill gaps keep the macro."""
    return f"date_bin($__interval_ms * interval '1 ms', {column}, timestamptz 'epoch') AS time"


def community_variable(*, multi: bool) -> Variable:
    return Variable(
        "community",
        "Community (居委)",
        VariableKind.QUERY,
        query="SELECT DISTINCT community FROM venue WHERE retired_at IS NULL ORDER BY 1",
        multi=multi,
        include_all=multi,
    )


def timezone_variable(zone: str) -> Variable:
    """A hidden constant: the zone that local days and inspection cycles are cut in."""
    return Variable("tz", "Time zone", VariableKind.CONSTANT, values=(zone,))
