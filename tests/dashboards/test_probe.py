"""The shape check the panel tests rely on: it must catch what Grafana could not draw."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from firewatch.dashboards.model import Panel, PanelType
from firewatch.dashboards.probe import shape_problems

INT, FLOAT, TEXT, TSTZ, BOOL = 20, 701, 25, 1184, 16
T1, T2 = datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 3, 2, tzinfo=UTC)


def _panel(kind: PanelType, columns: tuple[str, ...]) -> Panel:
    return Panel("p", "P", kind, "SELECT 1", columns, (), color_field="risk")


CASES: list[tuple[PanelType, tuple[str, ...], list[int], list[tuple[Any, ...]], str]] = [
    # a time series as Grafana wants it: time first, in order, a text metric, numbers
    (PanelType.TIMESERIES, ("time", "metric", "v"), [TSTZ, TEXT, FLOAT],
     [(T1, "a", 1.0), (T2, "a", 2.0)], ""),
    # the query returns other columns than the panel declares
    (PanelType.TIMESERIES, ("time", "v"), [TSTZ, FLOAT, FLOAT], [], "columns"),
    # rows out of time order
    (PanelType.TIMESERIES, ("time", "v"), [TSTZ, FLOAT], [(T2, 1.0), (T1, 2.0)], "time order"),
    # a value that is text, not a number
    (PanelType.TIMESERIES, ("time", "v"), [TSTZ, TEXT], [], "not numeric"),
    # no time column first
    (PanelType.TIMESERIES, ("v", "time"), [FLOAT, TSTZ], [], "first column `time`"),
    # a stat of a boolean
    (PanelType.STAT, ("online",), [BOOL], [], "not numeric"),
    # a geomap without numeric coordinates
    (PanelType.GEOMAP, ("latitude", "longitude", "risk"), [TEXT, FLOAT, INT], [], "latitude"),
    # a geomap whose colour field is not a number
    (PanelType.GEOMAP, ("latitude", "longitude", "risk"), [FLOAT, FLOAT, TEXT], [], "risk"),
    # bars need a text name first
    (PanelType.BARGAUGE, ("level", "alerts"), [INT, INT], [], "text first column"),
    # a pie of text values
    (PanelType.PIECHART, ("reason", "messages"), [TEXT, TEXT], [], "not numeric"),
    # a table takes anything
    (PanelType.TABLE, ("a", "b"), [BOOL, TEXT], [(True, "x")], ""),
]  # fmt: skip


@pytest.mark.parametrize(("kind", "declared", "types", "rows", "problem"), CASES)
def test_shape(
    kind: PanelType,
    declared: tuple[str, ...],
    types: list[int],
    rows: list[tuple[Any, ...]],
    problem: str,
) -> None:
    names = list(declared) if problem != "columns" else ["time", "v", "extra"]
    found = shape_problems(_panel(kind, declared), names, types, rows)
    if problem:
        assert any(problem in p for p in found), found
    else:
        assert found == []
