"""`firewatch dashboards export DIR` and `firewatch dashboards publish --url --token`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from firewatch.config import Config
from firewatch.dashboards.datasource import DataSource
from firewatch.dashboards.errors import DashboardPublishError, DataSourceError
from firewatch.dashboards.export import FOLDER_TITLE, dashboards, export
from firewatch.dashboards.publish import connect, publish

if TYPE_CHECKING:
    Actions = argparse._SubParsersAction[argparse.ArgumentParser]


def _source(args: argparse.Namespace, config: Config) -> DataSource | None:
    """The data source Grafana should use: --database-url, else database.url, else none."""
    url = args.database_url or (
        config.database.url.get_secret_value() if config.database.url else None
    )
    return DataSource.from_url(url) if url else None


def export_command(args: argparse.Namespace, config: Config) -> int:
    try:
        source = _source(args, config)
    except DataSourceError as exc:
        print(f"firewatch: {exc}", file=sys.stderr)
        return 1
    written = export(args.dir, config.general.timezone, source, args.folder)
    for path in written:
        print(path)
    if source is None:
        print(
            "no database URL (FIREWATCH_DATABASE_URL or --database-url): the data source file"
            " reads its address, database and user from $FIREWATCH_GRAFANA_DB_* variables",
            file=sys.stderr,
        )
    return 0


def publish_command(args: argparse.Namespace, config: Config) -> int:
    try:
        source = _source(args, config)
        report = publish(
            connect(args.url, args.token),
            dashboards(config.general.timezone),
            args.folder,
            source,
        )
    except (DataSourceError, DashboardPublishError) as exc:
        print(f"firewatch: {exc}", file=sys.stderr)
        return 1
    for line in report.lines():
        print(line)
    if source is None:
        print(
            "data source not published: no database URL (FIREWATCH_DATABASE_URL or"
            " --database-url); the dashboards expect a PostgreSQL data source with uid"
            " firewatch-pg",
            file=sys.stderr,
        )
    return 0


def add_commands(subparsers: Actions) -> Actions:
    """Register `dashboards` and its actions; returns the actions."""
    command = subparsers.add_parser("dashboards", help="the control room's Grafana dashboards")
    actions: Actions = command.add_subparsers(dest="action", required=True, metavar="ACTION")
    database_help = (
        "postgresql://user:pass@host:port/db as Grafana reaches it (a read-only role);"
        " default: database.url"
    )
    out = actions.add_parser("export", help="write dashboards and provisioning files")
    out.add_argument("dir", type=Path, metavar="DIR", help="directory to write into")
    out.add_argument("--folder", default=FOLDER_TITLE, help="Grafana folder (default Firewatch)")
    out.add_argument("--database-url", help=database_help)
    out.set_defaults(handler=export_command)

    push = actions.add_parser("publish", help="push folder, data source, dashboards to Grafana")
    push.add_argument("--url", required=True, help="Grafana's base URL, e.g. http://grafana:3000")
    push.add_argument("--token", required=True, help="a service-account token (Editor or Admin)")
    push.add_argument("--folder", default=FOLDER_TITLE, help="Grafana folder (default Firewatch)")
    push.add_argument("--database-url", help=database_help)
    push.set_defaults(handler=publish_command)
    return actions
