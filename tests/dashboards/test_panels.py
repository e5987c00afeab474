"""Every panel's SQL, expanded as Grafana expands it, against the seeded database: it runs,
returns the columns its panel type needs, and (over a week) has something to show."""

from __future__ import annotations

from datetime import timedelta

import psycopg
import pytest

from firewatch.dashboards.boards import all_boards
from firewatch.dashboards.model import Board, Panel, PanelType
from firewatch.dashboards.probe import resolve_variables, run_panel, shape_problems
from tests.dashboards.seed import ZONE, Seeded

BOARDS = all_boards(ZONE)
PANELS = [(b, p) for b in BOARDS for p in b.panels]
RANGES = {
    "6h": timedelta(hours=6),  # the wall screen's default; venue readings from the raw table
    "7d": timedelta(days=7),  # longer than the seed: venue readings from the hourly rollup
}


def _missing_tables(conn: psycopg.Connection, panel: Panel) -> list[str]:
    return [
        t
        for t in panel.tables
        if conn.execute("SELECT to_regclass(%s)", (t,)).fetchone() == (None,)
    ]


@pytest.mark.parametrize("span", RANGES)
@pytest.mark.parametrize(("board", "panel"), PANELS, ids=[f"{b.uid}/{p.key}" for b, p in PANELS])
def test_panel_query(seeded: Seeded, board: Board, panel: Panel, span: str) -> None:
    with psycopg.connect(seeded.url) as conn:
        missing = _missing_tables(conn, panel)
        if missing:
            pytest.skip(f"{board.uid}/{panel.key} reads {', '.join(missing)}, not created yet")
        variables = resolve_variables(
            conn,
            board,
            seeded.now,
            {"community": seeded.focus_community, "venue": seeded.focus_venue},
        )
        names, types, rows = run_panel(
            conn, panel, seeded.now - RANGES[span], seeded.now, variables
        )
    assert shape_problems(panel, names, types, rows) == []
    if span == "7d":
        assert rows, f"{board.uid}/{panel.key} returned no rows over the seeded week"


@pytest.mark.parametrize(("board", "panel"), PANELS, ids=[f"{b.uid}/{p.key}" for b, p in PANELS])
def test_declared_tables_are_read(board: Board, panel: Panel) -> None:
    for table in panel.tables:
        assert table in panel.sql, f"{panel.key} declares {table} but its SQL does not read it"


def test_panel_keys_and_uids_are_unique() -> None:
    assert len({b.uid for b in BOARDS}) == len(BOARDS)
    for board in BOARDS:
        assert len({p.key for p in board.panels}) == len(board.panels), board.uid


@pytest.mark.parametrize("name", ["smoke", "gas"])
def test_venue_readings_switch_to_the_hourly_rollup(seeded: Seeded, name: str) -> None:
    """The drill-down's readings panels read raw rows up to 26 hours and the rollup beyond:
    both branches must give the same hourly maxima where they overlap."""
    board = next(b for b in BOARDS if b.uid == "fw-venue")
    panel = board.panel(name)
    with psycopg.connect(seeded.url) as conn:
        variables = resolve_variables(
            conn, board, seeded.now, {"community": seeded.focus_community,
                                      "venue": seeded.focus_venue},
        )  # fmt: skip
        end = seeded.now.replace(minute=0)
        raw = run_panel(conn, panel, end - timedelta(hours=24), end, variables)[2]
        rolled = run_panel(conn, panel, end - timedelta(days=2), end, variables)[2]
    assert raw and rolled
    hourly_raw: dict[tuple[int, str], float] = {}
    for time, metric, value in raw:
        key = (int(time.timestamp()) // 3600 * 3600, metric)
        hourly_raw[key] = max(hourly_raw.get(key, value), value)
    whole_hours = {k for k in hourly_raw if k[0] < end.timestamp()}
    from_rollup = {
        (int(t.timestamp()), m): v for t, m, v in rolled if (int(t.timestamp()), m) in whole_hours
    }
    assert from_rollup
    assert all(hourly_raw[k] == pytest.approx(v) for k, v in from_rollup.items())


def test_a_missing_table_is_named(seeded: Seeded) -> None:
    """What the skip above reports when a stage's table has not landed yet."""
    panel = Panel("p", "P", PanelType.TABLE, "SELECT 1 FROM later_stage", ("x",),
                  ("venue", "later_stage"))  # fmt: skip
    with psycopg.connect(seeded.url) as conn:
        assert _missing_tables(conn, panel) == ["later_stage"]
