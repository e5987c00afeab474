"""`firewatch rules check | test | backtest`: the handlers behind the command group."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from firewatch import cli_rules as cli
from firewatch.config import Config
from firewatch.rules.loader import DEFAULT_DIR
from tests.rules.helpers import write_rules
from tests.rules.test_loader import GOOD


def _run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="firewatch")
    cli.add_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    code: int = args.handler(args, Config())
    return code


def test_rules_test_runs_every_rule_files_tests(capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(["rules", "test", "-v"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[-1].endswith("0 failed, 25 rules")
    assert any(line.startswith("ok   heat.rate_of_rise: 10 °C a minute") for line in out)


def test_rules_check_lists_the_rules(capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(["rules", "check", "--dir", str(DEFAULT_DIR)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[-1] == "25 rules in 7 files: valid"


FAILING = (
    GOOD
    + """\
    tests:
      - name: expects the wrong moment
        input:
          - {at: 0, device: SMK-1, reading: {temp_c: 60}}
        expect:
          - {at: 5, subject: SMK-1}
"""
)


@pytest.mark.parametrize(
    ("text", "code", "said"),
    [
        # a passing test
        (
            GOOD.replace(
                "when:",
                "tests: [{name: hot, input: [{at: 0, device: S, reading: "
                "{temp_c: 60}}], expect: [{at: 0, subject: S}]}]\n    when:",
            ),
            0,
            "1 passed, 0 failed, 1 rules",
        ),
        # a failing test names the rule, the test, its line, and both sides
        (FAILING, 1, "FAIL t.heat: expects the wrong moment ("),
        # a rule without tests is a failure of the library
        (GOOD, 1, "rules without tests: t.heat"),
        # an invalid file: every problem with file and line, exit 1
        (GOOD.replace("level: red", "level: 3"), 1, "rules.yaml:7: rules[0].level: '3' is not"),
    ],
)
def test_rules_test_exit_codes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, code: int, said: str
) -> None:
    write_rules(tmp_path, "rules.yaml", text)
    assert _run(["rules", "test", "--dir", str(tmp_path)]) == code
    captured = capsys.readouterr()
    assert said in captured.out + captured.err


def test_backtest_arguments_are_checked(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        _run(["rules", "backtest", "--from", "yesterday", "--to", "2026-05-02"])
    assert "expected a date (2026-05-01) or an RFC 3339 time" in capsys.readouterr().err
    assert _run(["rules", "backtest", "--from", "2026-05-02", "--to", "2026-05-01"]) == 2
    assert (
        _run(
            [
                "rules",
                "backtest",
                "--from",
                "2026-05-01",
                "--to",
                "2026-05-02",
                "--rule",
                "no.such.rule",
            ]
        )
        == 1
    )
    assert "no rule no.such.rule in the library" in capsys.readouterr().err
