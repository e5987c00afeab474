"""The `firewatch` command line: the only place that reads the wall clock and wires services."""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path

import psycopg

from firewatch import config as config_module
from firewatch import logs, services
from firewatch.config import Config
from firewatch.db.migrate import migrate
from firewatch.errors import ConfigError, MigrationError

log = logging.getLogger("firewatch")

Handler = Callable[[argparse.Namespace, Config], int]


def _config_show(args: argparse.Namespace, config: Config) -> int:
    print(json.dumps(config_module.masked(config), indent=2, ensure_ascii=False))
    return 0


def _migrate(config: Config, url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        report = migrate(
            conn,
            datetime.now(UTC).date(),
            partition_days_ahead=config.database.partition_days_ahead,
        )
    applied = ", ".join(report.applied) if report.applied else "nothing (schema is up to date)"
    log.info("migrations applied: %s", applied)
    if report.partitions_created:
        log.info("readings partitions created: %d", len(report.partitions_created))


def _db_migrate(args: argparse.Namespace, config: Config) -> int:
    with ExitStack() as stack:
        _migrate(config, services.database_url(config, stack))
    return 0


def _registry_import(args: argparse.Namespace, config: Config) -> int:
    from firewatch.registry import import_registry
    from firewatch.registry.errors import RegistryImportError

    with ExitStack() as stack:
        url = services.database_url(config, stack)
        with psycopg.connect(url) as conn:
            try:
                report = import_registry([Path(p) for p in args.files], conn)
            except RegistryImportError as exc:
                print(f"registry import failed, nothing was imported:\n{exc}", file=sys.stderr)
                return 1
    print(report)
    return 0


def _stop_on_signals(doing: str) -> threading.Event:
    """An event set by SIGTERM or Ctrl-C, logging `doing` (what the stop does)."""
    stop = threading.Event()

    def request_stop(signum: int, _frame: object) -> None:
        log.info("%s received: %s", signal.Signals(signum).name, doing)
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    return stop


def _run(args: argparse.Namespace, config: Config) -> int:
    from firewatch.engine import run_engine
    from firewatch.errors import SchemaMissingError
    from firewatch.kernel.clock import SystemClock

    stop = _stop_on_signals("draining what is in flight")
    if args.partition:
        config = config.model_copy(
            update={"engine": config.engine.model_copy(update={"partition": args.partition})}
        )
    try:
        run_engine(config, SystemClock(), stop)
    except (SchemaMissingError, ConfigError) as exc:
        log.error("%s", exc)
        return 1
    return 0


def _watchdog(args: argparse.Namespace, config: Config) -> int:
    from firewatch.kernel.clock import SystemClock
    from firewatch.watchdog import run_watchdog

    stop = _stop_on_signals("stopping the watchdog")
    try:
        run_watchdog(config, SystemClock(), stop)
    except ConfigError as exc:
        log.error("%s", exc)
        return 1
    return 0


def _demo(args: argparse.Namespace, config: Config) -> int:
    from firewatch.demo import run_demo

    scenarios = args.scenario or None
    return run_demo(
        config,
        hold=not args.no_wait,
        speed=args.speed,
        **({"scenarios": scenarios} if scenarios else {}),
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="firewatch", description="Fire-safety sensor ingestion and early-warning engine."
    )
    parser.add_argument(
        "--config", type=Path, help="TOML configuration file (default: ./firewatch.toml if present)"
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    config_cmd = commands.add_parser("config", help="configuration")
    config_sub = config_cmd.add_subparsers(dest="action", required=True, metavar="ACTION")
    config_sub.add_parser("show", help="print the effective configuration, secrets masked")
    config_cmd.set_defaults(handler=_config_show)

    db_cmd = commands.add_parser("db", help="database schema")
    db_sub = db_cmd.add_subparsers(dest="action", required=True, metavar="ACTION")
    db_sub.add_parser("migrate", help="create or upgrade the schema (idempotent)")
    db_cmd.set_defaults(handler=_db_migrate)

    registry_cmd = commands.add_parser("registry", help="stations, venues and devices")
    registry_sub = registry_cmd.add_subparsers(dest="action", required=True, metavar="ACTION")
    importer = registry_sub.add_parser(
        "import", help="load a JSON document or CSV files (all or nothing)"
    )
    importer.add_argument("files", nargs="+", metavar="FILE", help="JSON, CSV files or a folder")
    registry_cmd.set_defaults(handler=_registry_import)

    from firewatch import admin_cli
    from firewatch import cli_cases as cases_cli
    from firewatch import cli_dashboards as dashboards_cli
    from firewatch import cli_load as load_cli
    from firewatch import cli_models as models_cli
    from firewatch import cli_rules as rules_cli
    from firewatch import cli_simulators as simulators_cli

    load_cli.add_commands(simulators_cli.add_commands(commands))
    admin_cli.add_commands(commands)
    cases_cli.add_commands(commands)
    models_cli.add_commands(commands)
    rules_cli.add_commands(commands)
    dashboards_cli.add_commands(commands)

    run_cmd = commands.add_parser("run", help="the engine, until SIGTERM or Ctrl-C")
    run_cmd.add_argument(
        "--partition",
        metavar="K/N",
        help="own the K-th of N shares of the venues (engine.partition)",
    )
    run_cmd.set_defaults(handler=_run)

    watchdog_cmd = commands.add_parser(
        "watchdog",
        help="watch the engine instances; tell the control room when one is gone, and back",
    )
    watchdog_cmd.set_defaults(handler=_watchdog)

    demo_cmd = commands.add_parser(
        "demo", help="the whole system on this machine, nothing configured"
    )
    demo_cmd.add_argument(
        "--no-wait",
        action="store_true",
        help="exit after the day (status 1 if a scenario's outcome was wrong), not at Ctrl-C",
    )
    demo_cmd.add_argument(
        "--speed",
        type=float,
        default=600.0,
        help="how much faster than real time the quiet hours run (incidents: 10x)",
    )
    demo_cmd.add_argument(
        "--scenario", action="append", help="play only this scenario (repeatable); default: all"
    )
    demo_cmd.set_defaults(handler=_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        config = config_module.load(args.config)
    except ConfigError as exc:
        print(f"firewatch: {exc}", file=sys.stderr)
        return 2
    logs.configure(config.general.log_level, config.general.log_format)
    handler: Handler = args.handler
    try:
        return handler(args, config)
    except MigrationError as exc:
        log.error("%s", exc)
        return 1
    except psycopg.OperationalError as exc:
        log.error("the database cannot be reached: %s", exc)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
