"""`firewatch demo`, shortened: the first hour of a day of four scenarios, through the real engine
on a real PostgreSQL and a private Mosquitto, at the demo's own pace (incidents at 10x).

What a newcomer watching it must see is what the engine does in production: the fire confirmed
and its station called, the station answering before any reminder; the burnt toast hushed
before its 30 s verification ends, so nobody is called; the charging port cut off and answering;
the inspection's failed items opened as a case; and a summary that says so, scenario by scenario.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from firewatch.config import Config
from firewatch.demo import run_demo
from firewatch.simulators.scenarios import compose
from firewatch.simulators.subdistrict import generate
from tests.support.fixtures import PrivateMosquittoFactory
from tests.support.ports import free_port

SCENARIOS = ["flaming_fire", "test_and_hush", "thermal_runaway", "inspection_rectification"]


def _venues() -> dict[str, str]:
    """Scenario -> venue: a run's venues do not depend on its start."""
    run = compose(SCENARIOS, generate(1), seed=1, start=datetime(2026, 5, 1, tzinfo=UTC))
    return {t.scenario: t.venue_id for t in run.truths}


def test_a_short_demo_day_tells_the_truth(
    fresh_db: str,
    private_mosquitto: PrivateMosquittoFactory,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    broker = private_mosquitto()
    config = Config.model_validate({
        "database": {"url": fresh_db},
        "mqtt": {"url": broker.url},
        "api": {"bind": f"127.0.0.1:{free_port()}"},
        "general": {"data_dir": str(tmp_path)},
    })  # fmt: skip
    began = time.monotonic()
    code = run_demo(config, hold=False, scenarios=SCENARIOS, hours=1.0)
    wall = time.monotonic() - began
    out = capsys.readouterr().out

    assert "outcome against ground truth: 4 as expected, 0 wrong, 0 not judged" in out, out
    final = next(line for line in out.splitlines() if line.startswith("the day is over"))
    assert "cases: incidents 2," in final, "each confirmed fire opened its incident case"
    for name in SCENARIOS:
        assert any(line.split()[:2] == ["ok", name] for line in out.splitlines()), name
    assert code == 0
    assert wall < 90, f"the short day took {wall:.0f} s"

    venue = _venues()
    with psycopg.connect(fresh_db) as conn:
        fires: dict[str, timedelta] = dict(conn.execute(
            "SELECT venue_id, min(acked_at - confirmed_at) FROM alert WHERE kind = 'fire'"
            " AND confirmed_at IS NOT NULL GROUP BY venue_id").fetchall())  # fmt: skip
        # Both fires confirmed and answered by their station within a minute, before any reminder
        # or escalation; the toast never confirmed.
        assert set(fires) == {venue["flaming_fire"], venue["thermal_runaway"]}
        assert all(0 < answered.total_seconds() < 60 for answered in fires.values()), fires
        assert conn.execute(
            "SELECT count(*) FROM notification WHERE purpose IN ('reminder', 'escalation')"
        ).fetchone() == (0,)
        assert conn.execute("SELECT count(*) FROM alert_escalation").fetchone() == (0,)
        hushed = conn.execute(
            "SELECT count(*) FROM alert a JOIN alert_device d USING (alert_id)"
            " WHERE a.venue_id = %s AND d.hushed_at IS NOT NULL", (venue["test_and_hush"],)
        ).fetchone()  # fmt: skip
        assert hushed == (1,), "the hush did not reach the pending alert"
        # The port was told to cut the power and answered within the engine's 10 s.
        cut = conn.execute(
            "SELECT count(*), count(*) FILTER (WHERE answered_at <= deadline_at) FROM actuation"
        ).fetchone()
        assert cut is not None and cut[0] >= 1 and cut[0] == cut[1], cut
        # Every station that was called heard that the incident is over.
        stood_down = conn.execute(
            "SELECT count(DISTINCT alert_id) FROM notification WHERE purpose = 'stand_down'"
        ).fetchone()
        assert stood_down == (2,)
        case = conn.execute(
            "SELECT count(*) FROM hazard_case WHERE kind = 'hazard' AND venue_id = %s",
            (venue["inspection_rectification"],),
        ).fetchone()
        assert case is not None and case[0] >= 1
