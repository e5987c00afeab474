"""The evaluation harness on one seed: fires found in time, nuisances kept below orange."""

from __future__ import annotations

from firewatch.models.evaluate import Report, evaluate_seed, quiet_day, quiet_raises, table
from firewatch.models.labels import FIRE_SCENARIOS
from firewatch.models.stage import ModelSet
from firewatch.models.training import NUISANCES
from firewatch.simulators.records import Outcome
from firewatch.simulators.subdistrict import Subdistrict


def test_one_seed_through_the_whole_path(trained: ModelSet, world: Subdistrict) -> None:
    results, before_smoke = evaluate_seed(4, world, trained)
    fires = [r for r in results if r.scenario in FIRE_SCENARIOS]
    assert all(r.detected_s is not None for r in fires)
    assert all(r.baseline_s is None or r.detected_s <= r.baseline_s + 30 for r in fires)  # type: ignore[operator]
    assert before_smoke and min(before_smoke) > 0  # the runaway is raised before the smoke
    assert all(r.top not in ("orange", "red") for r in results if r.scenario in NUISANCES)
    trouble = [r for r in results if r.expected == Outcome.TROUBLE_ONLY]
    assert all(r.detected_s is None for r in trouble)
    report = Report(scenarios=results, seeds=(4,))
    summary = report.summary()
    assert summary["recall"] == 1.0 and summary["fires_within_baseline_plus_30s"]
    assert "flaming_fire" in table(report)


def test_a_quiet_day_raises_nothing(trained: ModelSet, world: Subdistrict) -> None:
    records, days = quiet_day(world, seed=5, smoke=15, chargers=5, hours=6)
    assert days == 5.0 and records
    assert quiet_raises(records, trained) == 0
