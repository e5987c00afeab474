"""`firewatch rules ...`: the rules stage's commands, registered by the firewatch command line.

    firewatch rules check [--dir DIR]                 # load and validate, list the rules
    firewatch rules test [--dir DIR] [--rule ID]...   # run the rule files' own tests
    firewatch rules backtest --from 2026-05-01 --to 2026-05-08 [--rule ID]... [--json]

Handlers take `(args, config)` and return the exit code: 0 fine, 1 failed tests or an invalid
library (every problem printed with file, line and reason), 2 bad arguments.
"""

from __future__ import annotations

import argparse
import json
import sys
from contextlib import ExitStack
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import psycopg

from firewatch import services
from firewatch.config import Config
from firewatch.rules.backtest import run_backtest
from firewatch.rules.errors import RuleLibraryError
from firewatch.rules.loader import DEFAULT_DIR, Library, load_library
from firewatch.rules.unit import run_library_tests, untested

if TYPE_CHECKING:  # argparse's class is generic only to type checkers
    Actions = argparse._SubParsersAction[argparse.ArgumentParser]


def _moment(text: str) -> str:
    """Checked here, resolved in the handler (a bare date needs the configured zone)."""
    try:
        datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a date (2026-05-01) or an RFC 3339 time, got {text!r}"
        ) from None
    return text


def _resolve(text: str, zone: ZoneInfo) -> datetime:
    value = datetime.fromisoformat(text)
    if len(text) == 10:  # a bare date: its local midnight
        return datetime.combine(value.date(), time(0), zone)
    return value if value.tzinfo is not None else value.replace(tzinfo=zone)


def rules_dir(args: argparse.Namespace, config: Config) -> Path:
    """`--dir`, else the configured `rules.dir` (once the configuration has that section),
    else the default library shipped with firewatch."""
    if args.dir is not None:
        return Path(args.dir)
    section = getattr(config, "rules", None)
    configured = getattr(section, "dir", None)
    return Path(configured) if configured is not None else DEFAULT_DIR


def add_commands(subparsers: Actions) -> Actions:
    """Register `rules` and its actions; returns the actions."""
    rules = subparsers.add_parser("rules", help="fire-risk rules: check, test, back-test")
    actions: Actions = rules.add_subparsers(dest="action", required=True, metavar="ACTION")

    check = actions.add_parser("check", help="load and validate a rules directory")
    check.add_argument("--dir", type=Path, help="rules directory (default: the library)")
    check.set_defaults(handler=check_command)

    test = actions.add_parser("test", help="run the tests written in the rule files")
    test.add_argument("--dir", type=Path, help="rules directory (default: the library)")
    test.add_argument("--rule", action="append", metavar="ID", help="only this rule (repeatable)")
    test.add_argument("-v", "--verbose", action="store_true", help="list passing tests too")
    test.set_defaults(handler=test_command)

    back = actions.add_parser("backtest", help="replay stored readings, hits per rule per day")
    back.add_argument("--from", dest="start", type=_moment, required=True,
                      help="a date (local midnight) or an RFC 3339 time")  # fmt: skip
    back.add_argument("--to", dest="end", type=_moment, required=True,
                      help="exclusive: --from 2026-05-01 --to 2026-05-02 is one day")  # fmt: skip
    back.add_argument("--rule", action="append", metavar="ID", help="only this rule (repeatable)")
    back.add_argument("--dir", type=Path, help="rules directory (default: the library)")
    back.add_argument("--warmup", type=float, metavar="HOURS",
                      help="history replayed first (default: the longest window)")  # fmt: skip
    back.add_argument("--json", action="store_true", help="print JSON instead of a table")
    back.set_defaults(handler=backtest_command)
    return actions


def _library(directory: Path, rule_ids: list[str] | None) -> Library | None:
    try:
        library = load_library(directory)
        return library.only(rule_ids) if rule_ids else library
    except RuleLibraryError as exc:
        print(f"the rules in {directory} cannot be used:\n{exc}", file=sys.stderr)
    except KeyError as exc:
        print(f"firewatch rules: {exc.args[0]}", file=sys.stderr)
    return None


def check_command(args: argparse.Namespace, config: Config) -> int:
    library = _library(rules_dir(args, config), None)
    if library is None:
        return 1
    for rule in library.rules:
        print(f"{rule.id:32} v{rule.version}  {rule.type:13} {rule.category:8} "
              f"{rule.params.level:7} {rule.where}")  # fmt: skip
    print(f"{len(library.rules)} rules in {len(library.files)} files: valid")
    return 0


def test_command(args: argparse.Namespace, config: Config) -> int:
    library = _library(rules_dir(args, config), args.rule)
    if library is None:
        return 1
    outcomes = run_library_tests(library, ZoneInfo(config.general.timezone))
    for outcome in outcomes:
        if args.verbose or not outcome.passed:
            print(outcome)
    failed = sum(1 for o in outcomes if not o.passed)
    missing = untested(library)
    if missing:
        print(f"rules without tests: {', '.join(missing)}")
    print(f"{len(outcomes) - failed} passed, {failed} failed, {len(library.rules)} rules")
    return 1 if failed or missing else 0


def backtest_command(args: argparse.Namespace, config: Config) -> int:
    zone = ZoneInfo(config.general.timezone)
    start, end = _resolve(args.start, zone), _resolve(args.end, zone)
    if end <= start:
        print("firewatch rules backtest: --to must be after --from", file=sys.stderr)
        return 2
    library = _library(rules_dir(args, config), args.rule)
    if library is None:
        return 1
    warmup = timedelta(hours=args.warmup) if args.warmup is not None else None
    with ExitStack() as stack:
        url = services.database_url(config, stack)
        with psycopg.connect(url) as conn:
            report = run_backtest(conn, library, start, end, zone, warmup=warmup)
    if args.json:
        print(json.dumps(report.to_json(), ensure_ascii=False, indent=2))
    else:
        print(report.table())
    return 0
