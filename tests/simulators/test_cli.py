"""`firewatch simulate ...` through its own argument parser, as firewatch/cli.py wires it."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from firewatch.cli_simulators import add_commands
from firewatch.config import Config
from firewatch.kernel import topics
from firewatch.simulators.scenarios import LIBRARY
from tests.simulators.helpers import clear_retained


def _main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="firewatch")
    add_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return int(args.handler(args, Config()))


def test_subdistrict_writes_the_registry_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _main(["simulate", "subdistrict", "--seed", "3", "--out", str(tmp_path)]) == 0
    assert (tmp_path / "registry.json").exists() and (tmp_path / "csv" / "devices.csv").exists()
    assert "firewatch registry import" in capsys.readouterr().out


def test_scenarios_lists_the_library(capsys: pytest.CaptureFixture[str]) -> None:
    assert _main(["simulate", "scenarios"]) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in LIBRARY)


def test_a_dry_run_writes_the_same_truth_and_traffic_twice(tmp_path: Path) -> None:
    files = []
    for n in (1, 2):
        truth, traffic = tmp_path / f"truth{n}.jsonl", tmp_path / f"traffic{n}.jsonl"
        argv = ["simulate", "scenario", "all", "--seed", "2", "--start", "2026-05-01T10:00:00+08:00",
                "--truth", str(truth), "--traffic", str(traffic), "--dry-run"]  # fmt: skip
        assert _main(argv) == 0
        files.append((truth.read_bytes(), traffic.read_bytes()))
    assert files[0] == files[1]
    truths = [json.loads(line) for line in files[0][0].splitlines()]
    assert [t["scenario"] for t in truths] == list(LIBRARY)


def test_a_scenario_plays_to_the_broker_at_full_speed(
    tmp_path: Path, mqtt_broker: tuple[str, int], capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"mqtt://{mqtt_broker[0]}:{mqtt_broker[1]}"
    argv = ["simulate", "scenario", "tamper", "--speed", "max", "--mqtt-url", url,
            "--truth", str(tmp_path / "t.jsonl")]  # fmt: skip
    assert _main(argv) == 0
    assert "published" in capsys.readouterr().out
    truth = json.loads((tmp_path / "t.jsonl").read_text(encoding="utf-8"))
    clear_retained(mqtt_broker, [topics.availability("smoke", d) for d in truth["device_ids"]])


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["scenario", "nope", "--truth", "t"], None),
        (["scenario", "all", "--truth", "t", "--speed", "0"], "positive number"),
        (["scenario", "all", "--truth", "t", "--start", "2026-05-01T10:00:00"], "offset"),
        (["scenario", "all", "--truth", "t", "--mqtt-url", "http://x"], "mqtt://"),
    ],
)
def test_bad_arguments_are_refused(
    argv: list[str], message: str | None, capsys: pytest.CaptureFixture[str]
) -> None:
    if message is None:
        assert _main(["simulate", *argv]) == 2
        assert "no scenario 'nope'" in capsys.readouterr().err
        return
    with pytest.raises(SystemExit):
        _main(["simulate", *argv])
    assert message in capsys.readouterr().err
