"""`firewatch cases ...` commands against a real store (registered through `add_commands`)."""

from __future__ import annotations

import argparse

import psycopg
import pytest

from firewatch import cli_cases as cli
from firewatch.cases import CasesSettings, apply_scan
from firewatch.config import Config
from tests.cases.support import T0, scan, seed


def _run(url: str, *argv: str) -> int:
    parser = argparse.ArgumentParser(prog="firewatch")
    cli.add_commands(parser.add_subparsers(dest="command"))
    args = parser.parse_args(list(argv))
    result: int = args.handler(args, Config.model_validate({"database": {"url": url}}))
    return result


def test_cases_commands(fresh_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    seed(fresh_db)
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        case_id = (
            apply_scan(conn, scan("V-SHOP", T0, 1, failed=("exits_unlocked",)), T0, CasesSettings())
            .opened[0]
            .case_id
        )
    assert _run(fresh_db, "cases", "overdue") == 0
    out = capsys.readouterr().out
    assert "reminder to role operator: 已超期 overdue" in out and case_id in out
    assert "网格 G-1" in out  # never inspected: reported to the grid
    assert _run(fresh_db, "cases", "overdue") == 0
    assert "0 new reminder(s)" in capsys.readouterr().out  # the same day: nothing new
    assert _run(fresh_db, "cases", "list", "--stage", "reported") == 0
    assert f"{case_id}  V-SHOP  安全出口锁闭  上报 reported" in capsys.readouterr().out
    assert _run(fresh_db, "cases", "show", case_id) == 0
    shown = capsys.readouterr().out
    assert "opened_from_scan" in shown and "scan:INSP-7" in shown
    assert _run(fresh_db, "cases", "show", "HC-NOPE") == 1
    assert "case HC-NOPE does not exist" in capsys.readouterr().err
    assert _run(fresh_db, "cases", "coverage", "--overdue") == 0
    assert "V-FACT" in capsys.readouterr().out
