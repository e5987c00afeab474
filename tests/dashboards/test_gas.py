"""The contract's v1.1 `gas` kind on the boards: the venue's combustible-gas panel, run as
Grafana runs it against a migrated database, returns the concentrations inserted (raw for short
ranges, the hourly rollup for long ones, before and after a refresh); the panel draws its alarm
bands; the kind is listed wherever the boards list kinds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest

from firewatch.dashboards.boards import all_boards
from firewatch.dashboards.model import Board
from firewatch.dashboards.probe import resolve_variables, run_panel, shape_problems
from firewatch.dashboards.render import to_json
from firewatch.dashboards.rollups import RollupSettings, refresh
from tests.dashboards.seed import LEAK_PEAK, LEAK_START, Seeded, copy_gas_readings, leak_lel
from tests.ingest.seed import DEVICES, seed_registry

ZONE = "Asia/Shanghai"
BOARDS = {b.uid: b for b in all_boards(ZONE)}
VENUE = BOARDS["fw-venue"]
GAS = VENUE.panel("gas")
S = RollupSettings(settle=timedelta(0))


def _run(conn: psycopg.Connection, start: datetime, end: datetime) -> list[tuple[Any, ...]]:
    variables = resolve_variables(conn, VENUE, end, {"community": "Xinhua", "venue": "V-SHOP"})
    names, types, rows = run_panel(conn, GAS, start, end, variables)
    assert shape_problems(GAS, names, types, rows) == []
    return rows


def test_gas_panel_returns_the_readings_inserted(fresh_db: str) -> None:
    seed_registry(fresh_db, {**DEVICES, "GAS-1": ("gas", "V-SHOP"), "GAS-2": ("gas", "V-SHOP")})
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    base = (now - timedelta(hours=3)).replace(minute=10)  # all in one hour, within 6 hours
    rows: list[tuple[object, ...]] = []
    inserted: dict[tuple[datetime, str], float] = {}
    for device, levels in (("GAS-1", [1.0, 3.5, 22.0, 48.5, 31.0, 9.0, 2.0]),
                           ("GAS-2", [0.5, 0.5, 0.75, 0.5, 0.25, 0.5, 0.5])):  # fmt: skip
        for n, lel in enumerate(levels):
            ts = base + timedelta(minutes=n)
            inserted[(ts, device)] = lel
            valve = "closed" if device == "GAS-1" and n >= 3 else "open"
            rows.append((ts, ts, device, "gas", "V-SHOP", n, lel, lel >= 20, valve))
    # two days ago, only in the hourly branch's range
    old = (now - timedelta(days=2)).replace(minute=0)
    rows += [(old + timedelta(minutes=m), old + timedelta(minutes=m), "GAS-1", "gas", "V-SHOP",
              100 + m, lel, lel >= 20, "open") for m, lel in ((5, 4.0), (35, 26.5))]  # fmt: skip
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        copy_gas_readings(conn, rows)
        # 6 hours: every raw sample, one a minute per device
        raw = _run(conn, now - timedelta(hours=6), now)
        assert {(t, m): v for t, m, v in raw} == pytest.approx(inserted)
        # a week: the hourly maxima, from the view before the refresh and the rollup after it
        hourly = {base.replace(minute=0): 48.5, old: 26.5}
        before = _run(conn, now - timedelta(days=7), now)
        assert refresh(conn, now, ZONE, S).readings == len(rows)
        after = _run(conn, now - timedelta(days=7), now)
        for week in (before, after):
            peaks: dict[datetime, float] = {}
            for time, metric, value in week:
                if metric == "GAS-1":
                    peaks[time] = max(peaks.get(time, value), value)
            assert peaks == pytest.approx(hourly)
            assert {m for _, m, _ in week} == {"GAS-1", "GAS-2"}


def test_gas_panel_on_the_seeded_control_room(seeded: Seeded) -> None:
    """The focus venue's kitchen leak: the raw branch shows its peak, and the hourly branch the
    same peak for its hour."""
    leak_start = seeded.now - LEAK_START
    peak = max(leak_lel(leak_start + timedelta(minutes=m), seeded.now) or 0.0 for m in range(60))
    assert 20 < peak <= LEAK_PEAK
    with psycopg.connect(seeded.url) as conn:
        variables = resolve_variables(conn, VENUE, seeded.now, {
            "community": seeded.focus_community, "venue": seeded.focus_venue})  # fmt: skip
        for span in (timedelta(hours=6), timedelta(days=7)):
            rows = run_panel(conn, GAS, seeded.now - span, seeded.now, variables)[2]
            assert max(v for _, _, v in rows) == pytest.approx(peak, rel=1e-6)
            assert {m for _, m, _ in rows} == {f"GAS-{seeded.focus_venue}-01"}


def test_gas_panel_draws_its_alarm_bands() -> None:
    assert GAS.title == "可燃气体浓度 / Combustible gas (% LEL)"
    assert [v for v, _ in GAS.thresholds] == [None, 20, 50]
    board = to_json(VENUE)
    panel = next(p for p in board["panels"] if p["title"] == GAS.title)
    defaults = panel["fieldConfig"]["defaults"]
    assert [s["value"] for s in defaults["thresholds"]["steps"]] == [None, 20, 50]
    assert defaults["custom"]["thresholdsStyle"] == {"mode": "dashed"}
    assert "lel_pct_max" in GAS.sql and "FROM reading\n" in GAS.sql


def _kinds(board: Board) -> tuple[str, ...]:
    return next(v.values for v in board.variables if v.name == "kind")


def test_gas_is_listed_wherever_kinds_are() -> None:
    assert "gas" in _kinds(BOARDS["fw-devices"])
    events = VENUE.panel("venue_events")
    assert "lel_pct" in events.columns
    # the per-kind reading panels: every kind that sends readings has one on the venue board
    shown = {k.strip(" '") for p in VENUE.panels if "kind IN (" in p.sql
             for k in p.sql.split("kind IN (")[1].split(")")[0].split(",")}  # fmt: skip
    assert {"smoke", "charging", "occupancy", "gas"} <= shown
