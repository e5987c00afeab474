"""Train, list, load and score on readings the simulators wrote into a real database."""

from __future__ import annotations

import argparse
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest

from firewatch import cli_models as cli
from firewatch.config import Config
from firewatch.ingest.records import Reading
from firewatch.ingest.store import BatchWriter
from firewatch.kernel.contract import DeviceKind, Level
from firewatch.models import store
from firewatch.models.evaluate import START, quiet_day
from firewatch.models.stage import RiskStage
from firewatch.registry import import_registry
from firewatch.rules.evidence import Scope
from firewatch.simulators import registry_files
from firewatch.simulators.subdistrict import Subdistrict


def _config(url: str) -> Config:
    return Config.model_validate({"database": {"url": url}})


def _args(**values: object) -> argparse.Namespace:
    return argparse.Namespace(**values)


def test_train_list_load_and_score_from_stored_history(
    fresh_db: str,
    world: Subdistrict,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    paths = registry_files.write(world, tmp_path)
    records, _ = quiet_day(world, seed=3, smoke=20, chargers=6, hours=6)
    with psycopg.connect(fresh_db) as conn:
        import_registry([paths[0]], conn)
        BatchWriter(conn).write(records, [], flush_liveness=False)
    config = _config(fresh_db)
    since, until = START, START + timedelta(hours=6)
    for kind in ("smoke", "charging"):
        assert (
            cli.train_command(_args(kind=kind, since=since, until=until, seeds=None), config) == 0
        )
    assert cli.train_command(_args(kind="smoke", since=until, until=since, seeds=None), config) == 2
    assert cli.list_command(_args(), config) == 0
    listed = capsys.readouterr().out
    assert "anomaly-smoke" in listed and "anomaly-charging" in listed
    with psycopg.connect(fresh_db) as conn:
        rows = store.listing(conn)
        assert {info.name for info, _, _ in rows} == {"anomaly-smoke", "anomaly-charging"}
        info = rows[0][0]
        assert (info.trained_from, info.trained_to) == (since, until)
        assert info.algorithm in ("isolation_forest", "elliptic_envelope")
        assert {"average_precision_isolation_forest",
                "average_precision_elliptic_envelope"} <= set(info.metrics)  # fmt: skip
        models = store.load_models(conn)
    assert set(models.anomaly) == {DeviceKind.SMOKE, DeviceKind.CHARGING}
    with psycopg.connect(fresh_db) as conn:
        venues = store.venue_hazards(conn)
    assert len(venues) == len(world.venues) and all(v.category for v in venues.values())
    stage = RiskStage(models, venues=venues)
    readings = [r for r in records if isinstance(r, Reading)]
    scores = stage.score(readings)
    assert scores and all(s.level in (Level.BLUE, Level.YELLOW) for s in scores
                          if s.scope == Scope.DEVICE)  # fmt: skip


def test_training_on_an_empty_range_says_what_is_missing(
    fresh_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    args = _args(kind="charging", since=START, until=START + timedelta(hours=1), seeds=None)
    assert cli.train_command(args, _config(fresh_db)) == 1
    assert "only 0 charging readings" in capsys.readouterr().err


def test_the_commands_register_and_parse() -> None:
    parser = argparse.ArgumentParser(prog="firewatch")
    cli.add_commands(parser.add_subparsers(dest="command", required=True))
    train = parser.parse_args(
        ["models", "train", "--kind", "smoke", "--from", "2026-05-01", "--to", "2026-05-02"]
    )
    assert train.handler is cli.train_command and train.since.tzinfo is not None
    assert parser.parse_args(["models", "train", "--kind", "fire", "--seeds", "1-3"]).seeds == (
        1, 2, 3)  # fmt: skip
    assert parser.parse_args(["models", "list"]).handler is cli.list_command
    ev = parser.parse_args(["eval", "--quick", "--json", "--no-rules"])
    assert ev.handler is cli.eval_command and ev.quick and ev.json and ev.no_rules
