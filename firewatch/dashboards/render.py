"""Boards to Grafana dashboard JSON, through the foundation SDK's builders.

Panel ids are positions (stable), panels are packed on Grafana's 24-column grid in the order
they are listed (each at the highest free place that fits it), and every target names the
provisioned data source by uid, so the same JSON works provisioned from files or published.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from grafana_foundation_sdk.builders import (
    barchart,
    bargauge,
    common,
    geomap,
    piechart,
    stat,
    table,
    timeseries,
)
from grafana_foundation_sdk.builders import dashboard as dash
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models import common as common_models
from grafana_foundation_sdk.models import dashboard as models
from grafana_foundation_sdk.models import geomap as geomap_models

from firewatch.dashboards.model import FORMAT, Board, Panel, PanelType, Variable, VariableKind
from firewatch.dashboards.sqlquery import SqlQueryBuilder, datasource_ref

GRID_COLUMNS = 24
PanelBuilder = (
    timeseries.Panel | stat.Panel | table.Panel | geomap.Panel | bargauge.Panel
    | barchart.Panel | piechart.Panel
)  # fmt: skip


def layout(sizes: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """(x, y) for panels of (width, height), in order: each goes where its top is highest,
    leftmost on a tie (a skyline over the 24 columns).

    >>> layout([(24, 9), (14, 14), (10, 7), (10, 7), (12, 8)])
    [(0, 0), (0, 9), (14, 9), (14, 16), (0, 23)]
    """
    skyline = [0] * GRID_COLUMNS
    places = []
    for width, _ in sizes:
        if not 0 < width <= GRID_COLUMNS:
            raise ValueError(f"panel width {width} is outside 1..{GRID_COLUMNS}")
    for width, height in sizes:
        x = min(range(GRID_COLUMNS - width + 1), key=lambda c: (max(skyline[c : c + width]), c))
        y = max(skyline[x : x + width])
        skyline[x : x + width] = [y + height] * width
        places.append((x, y))
    return places


def _thresholds(panel: Panel) -> dash.ThresholdsConfig:
    steps = panel.thresholds or ((None, "green"),)
    return (
        dash.ThresholdsConfig()
        .mode(models.ThresholdsMode.ABSOLUTE)
        .steps([models.Threshold(value=value, color=color) for value, color in steps])
    )


def _values_of_rows() -> common.ReduceDataOptions:
    """One bar or slice per row (named by the row's text field), not one per column."""
    return common.ReduceDataOptions().values(True).calcs([]).fields("")


def _geomap(panel: Panel) -> geomap.Panel:
    markers = (
        common.MapLayerOptions()
        .type("markers")
        .name("Venues")
        .location(
            common.FrameGeometrySource()
            .mode(common_models.FrameGeometrySourceMode.COORDS)
            .latitude("latitude")
            .longitude("longitude")
        )
        .config(
            {
                "showLegend": True,
                "style": {
                    "color": {"field": panel.color_field, "fixed": "dark-green"},
                    "size": {"fixed": 6, "min": 4, "max": 14, "field": "open_alerts"},
                    "opacity": 0.8,
                    "symbol": {"mode": "fixed", "fixed": "img/icons/marker/circle.svg"},
                },
            }
        )
    )
    return (
        geomap.Panel()
        .view(geomap.MapViewConfig().id(geomap_models.MapCenterID.FIT).zoom(14))
        .basemap(common.MapLayerOptions().type("default").name("Basemap"))
        .layers([markers])
        .tooltip(geomap.TooltipOptions().mode(geomap_models.TooltipMode.DETAILS))
        .controls(geomap.ControlsOptions().show_zoom(True).mouse_wheel_zoom(True))
    )


def _timeseries(panel: Panel) -> timeseries.Panel:
    builder = timeseries.Panel().legend(
        common.VizLegendOptions()
        .show_legend(True)
        .display_mode(common_models.LegendDisplayMode.LIST)
        .placement(common_models.LegendPlacement.BOTTOM)
    )
    if panel.threshold_lines:
        dashed = common_models.GraphTresholdsStyleMode.DASHED  # sic: the SDK's spelling
        builder = builder.thresholds_style(common.GraphThresholdsStyleConfig().mode(dashed))
    if panel.stacked:
        stacking = common.StackingConfig().mode(common_models.StackingMode.NORMAL)
        return builder.stacking(stacking).fill_opacity(40)
    return builder


def _barchart(panel: Panel) -> barchart.Panel:
    chart = barchart.Panel().x_field(panel.columns[0])
    return chart.stacking(common_models.StackingMode.NORMAL) if panel.stacked else chart


_TYPED: dict[PanelType, Callable[[Panel], PanelBuilder]] = {
    PanelType.TIMESERIES: _timeseries,
    PanelType.STAT: lambda _: stat.Panel().reduce_options(
        common.ReduceDataOptions().calcs(["lastNotNull"])
    ),
    PanelType.TABLE: lambda _: table.Panel().show_header(True),
    PanelType.GEOMAP: _geomap,
    PanelType.BARGAUGE: lambda _: (
        bargauge.Panel()
        .reduce_options(_values_of_rows())
        .display_mode(common_models.BarGaugeDisplayMode.GRADIENT)
        .orientation(common_models.VizOrientation.HORIZONTAL)
    ),
    PanelType.BARCHART: _barchart,
    PanelType.PIECHART: lambda _: piechart.Panel().reduce_options(_values_of_rows()),
}


def panel_builder(panel: Panel, panel_id: int, x: int, y: int) -> PanelBuilder:
    builder = (
        _TYPED[panel.type](panel)
        .id(panel_id)
        .title(panel.title)
        .datasource(datasource_ref())
        .with_target(SqlQueryBuilder(panel.sql, FORMAT[panel.type]))
        .grid_pos(models.GridPos(h=panel.height, w=panel.width, x=x, y=y))
        .thresholds(_thresholds(panel))
    )
    if panel.description:
        builder = builder.description(panel.description)
    if panel.unit:
        builder = builder.unit(panel.unit)
    if panel.min_interval:
        builder = builder.interval(panel.min_interval)
    return builder


def variable_builder(variable: Variable) -> Any:
    if variable.kind is VariableKind.CONSTANT:
        return dash.ConstantVariable(variable.name).label(variable.label).value(variable.values[0])
    if variable.kind is VariableKind.CUSTOM:
        return (
            dash.CustomVariable(variable.name)
            .label(variable.label)
            .values(",".join(variable.values))
            .multi(variable.multi)
            .include_all(variable.include_all)
        )
    return (
        dash.QueryVariable(variable.name)
        .label(variable.label)
        .datasource(datasource_ref())
        .query(variable.query)
        .refresh(models.VariableRefresh.ON_DASHBOARD_LOAD)
        .sort(models.VariableSort.DISABLED)
        .multi(variable.multi)
        .include_all(variable.include_all)
    )


def dashboard_builder(board: Board) -> dash.Dashboard:
    builder = (
        dash.Dashboard(board.title)
        .uid(board.uid)
        .description(board.description)
        .tags(list(board.tags))
        .time(board.time_from, "now")
        .refresh(board.refresh)
        .timezone("browser")
        .tooltip(models.DashboardCursorSync.CROSSHAIR)
        .editable()
    )
    for variable in board.variables:
        builder = builder.with_variable(variable_builder(variable))
    places = layout([(p.width, p.height) for p in board.panels])
    for number, (panel, (x, y)) in enumerate(zip(board.panels, places, strict=True), start=1):
        builder = builder.with_panel(panel_builder(panel, number, x, y))
    return builder


def to_json(board: Board) -> dict[str, Any]:
    """The dashboard as Grafana stores it (`dashboard` of the HTTP API, or a provisioned file)."""
    encoded = json.dumps(dashboard_builder(board).build(), cls=JSONEncoder, sort_keys=True)
    loaded: dict[str, Any] = json.loads(encoded)
    return loaded
