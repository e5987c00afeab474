"""`firewatch users ...` and `firewatch broker config`: who may use the API and the broker."""

from __future__ import annotations

import argparse
import sys
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg

from firewatch import services
from firewatch.auth.roles import Role
from firewatch.auth.users import create_user, list_users, revoke_user
from firewatch.broker_config import write_broker_config
from firewatch.config import Config
from firewatch.errors import UserError


def _users_add(args: argparse.Namespace, config: Config) -> int:
    with ExitStack() as stack, psycopg.connect(services.database_url(config, stack)) as conn:
        try:
            token = create_user(
                conn,
                args.name,
                Role(args.role),
                args.community,
                station_id=args.station,
                department=args.department,
            )
        except UserError as exc:
            print(f"firewatch: {exc}", file=sys.stderr)
            return 1
    # The token goes to standard output only, never to the log: it is shown this once.
    print(token)
    print(f"user {args.name} ({args.role}) created; keep the token above, it is not stored",
          file=sys.stderr)  # fmt: skip
    return 0


def _users_list(args: argparse.Namespace, config: Config) -> int:
    with ExitStack() as stack, psycopg.connect(services.database_url(config, stack)) as conn:
        for user_id, role, communities, created, revoked in list_users(conn):
            scope = ",".join(communities) or "all communities"
            state = f"revoked {revoked:%Y-%m-%d}" if revoked else "active"
            print(f"{user_id:24} {role:10} {scope:30} created {created:%Y-%m-%d}  {state}")
    return 0


def _users_revoke(args: argparse.Namespace, config: Config) -> int:
    with ExitStack() as stack, psycopg.connect(services.database_url(config, stack)) as conn:
        try:
            revoke_user(conn, args.name, datetime.now(UTC))
        except UserError as exc:
            print(f"firewatch: {exc}", file=sys.stderr)
            return 1
    print(f"user {args.name} revoked")
    return 0


def _broker_config(args: argparse.Namespace, config: Config) -> int:
    with ExitStack() as stack, psycopg.connect(services.database_url(config, stack)) as conn:
        files = write_broker_config(conn, Path(args.out), datetime.now(UTC))
    print(f"wrote {files.password_file} and {files.acl_file} for {files.users} broker users")
    if files.new_credentials:
        print(
            f"new credentials (hand them to the installers, then delete): {files.new_credentials}"
        )
    print("point Mosquitto at them: password_file and acl_file, with allow_anonymous false")
    return 0


def add_commands(commands: Any) -> None:
    users = commands.add_parser("users", help="API users and their bearer tokens")
    actions = users.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = actions.add_parser("add", help="create a user and print its token once")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=[r.value for r in Role])
    add.add_argument(
        "--community",
        action="append",
        default=[],
        help="limit the user to this community (居委); repeat for several",
    )
    add.add_argument("--station", help="the micro fire station of a station member")
    add.add_argument("--department", help="the department of a department user")
    add.set_defaults(handler=_users_add)
    actions.add_parser("list", help="every user, role and scope").set_defaults(handler=_users_list)
    revoke = actions.add_parser("revoke", help="revoke a user's token")
    revoke.add_argument("name")
    revoke.set_defaults(handler=_users_revoke)

    broker = commands.add_parser("broker", help="the MQTT broker's authentication")
    broker_actions = broker.add_subparsers(dest="action", required=True, metavar="ACTION")
    cfg = broker_actions.add_parser("config", help="write a Mosquitto password file and ACL")
    cfg.add_argument("--out", required=True, help="directory for passwords, acl, credentials")
    cfg.set_defaults(handler=_broker_config)
