"""`firewatch report ...` and `firewatch cases ...`, registered by the firewatch command line.

    firewatch report assessment --month 2026-05 [--format table|csv|html] [--out FILE]
    firewatch cases overdue          # reminders, listing proposals, inspection overdue: once
    firewatch cases list [--venue V] [--stage S] [--listed]
    firewatch cases show CASE_ID     # the case and its whole history
    firewatch cases coverage [--overdue]

This is the cases stage's composition root: the only place here that reads the wall clock.
"""

from __future__ import annotations

import argparse
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING

import psycopg

from firewatch import services
from firewatch.cases import hazards, reminders, store
from firewatch.cases.assessment import Month, assess, render_csv, render_html, render_table
from firewatch.cases.errors import CaseNotFoundError
from firewatch.cases.inspections import Coverage, coverage
from firewatch.cases.records import Stage, Supervision
from firewatch.cases.settings import settings_from_config
from firewatch.config import Config
from firewatch.kernel.clock import SystemClock

if TYPE_CHECKING:  # argparse's class is generic only to type checkers
    Actions = argparse._SubParsersAction[argparse.ArgumentParser]


def _month(text: str) -> Month:
    try:
        return Month.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_commands(subparsers: Actions) -> Actions:
    """Register `report` and `cases`; returns the `cases` actions."""
    report = subparsers.add_parser("report", help="reports for the office")
    report_actions = report.add_subparsers(dest="action", required=True, metavar="ACTION")
    assessment = report_actions.add_parser(
        "assessment", help="the monthly assessment (考核) per community and department"
    )
    assessment.add_argument("--month", type=_month, required=True, help="YYYY-MM")
    assessment.add_argument("--format", choices=("table", "csv", "html"), default="table")
    assessment.add_argument("--out", type=Path, help="write to FILE instead of standard output")
    assessment.set_defaults(handler=assessment_command)

    cases = subparsers.add_parser("cases", help="hazard cases")
    actions: Actions = cases.add_subparsers(dest="action", required=True, metavar="ACTION")
    overdue = actions.add_parser(
        "overdue", help="remind holders, propose listings, report inspections overdue"
    )
    overdue.set_defaults(handler=overdue_command)
    listing = actions.add_parser("list", help="cases, oldest first")
    listing.add_argument("--venue", help="only this venue")
    listing.add_argument("--stage", choices=[s.value for s in Stage])
    listing.add_argument("--listed", action="store_true", help="only listed supervision")
    listing.set_defaults(handler=list_command)
    show = actions.add_parser("show", help="one case with its whole history")
    show.add_argument("case_id")
    show.set_defaults(handler=show_command)
    cov = actions.add_parser("coverage", help="inspection coverage per venue")
    cov.add_argument("--overdue", action="store_true", help="only venues overdue")
    cov.set_defaults(handler=coverage_command)
    return actions


def assessment_command(args: argparse.Namespace, config: Config) -> int:
    settings = settings_from_config(config)
    with ExitStack() as stack, psycopg.connect(services.database_url(config, stack)) as conn:
        report = assess(conn, args.month, settings)
    render = {"table": render_table, "csv": render_csv, "html": render_html}[args.format]
    text = render(report)
    if args.out is None:
        sys.stdout.write(text)
    else:
        args.out.write_text(text, encoding="utf-8")
        print(f"assessment {report.month} ({args.format}) written to {args.out}")
    return 0


def overdue_command(args: argparse.Namespace, config: Config) -> int:
    settings = settings_from_config(config)
    now = SystemClock().now()
    with ExitStack() as stack, psycopg.connect(services.database_url(config, stack)) as conn:
        conn.autocommit = True
        result = reminders.sweep(conn, now, settings)
    for case_id, why in result.proposals:
        print(f"proposed for street-level listing: {case_id} ({why})")
    for r in result.reminders:
        print(f"reminder to {r.to_kind} {r.to_ref}: {r.text}")
    print(f"{len(result.reminders)} new reminder(s), {len(result.proposals)} listing proposal(s)")
    return 0


def list_command(args: argparse.Namespace, config: Config) -> int:
    settings = settings_from_config(config)
    with ExitStack() as stack, psycopg.connect(services.database_url(config, stack)) as conn:
        found = store.find(
            conn, venue_id=args.venue, stage=Stage(args.stage) if args.stage else None
        )
    now = SystemClock().now()
    for case in found:
        if args.listed and case.supervision not in (Supervision.STREET, Supervision.DISTRICT):
            continue
        due = case.due_at.astimezone(settings.zone).strftime("%Y-%m-%d %H:%M")
        flags = ("超期 overdue " if case.overdue(now) else "") + (
            f"挂牌 {case.supervision}" if case.supervision is not Supervision.NONE else ""
        )
        print(
            f"{case.case_id}  {case.venue_id}  {hazards.label(case.hazard)}  "
            f"{case.stage.label} {case.stage}  due {due}  {flags}".rstrip()
        )
    return 0


def show_command(args: argparse.Namespace, config: Config) -> int:
    settings = settings_from_config(config)
    with ExitStack() as stack, psycopg.connect(services.database_url(config, stack)) as conn:
        try:
            case = store.load(conn, args.case_id)
        except CaseNotFoundError as exc:
            print(f"firewatch cases: {exc}", file=sys.stderr)
            return 1
    zone = settings.zone
    print(
        f"{case.case_id} {case.kind} {hazards.label(case.hazard)} at {case.venue_id} "
        f"({case.community} / {case.grid}); {case.stage.label} {case.stage}; "
        f"supervision {case.supervision}; found {case.found_count}x; version {case.version}"
    )
    for part in case.parts:
        print(f"  part {part.department}: {part.state}")
    for e in case.history:
        move = (
            e.to_stage if e.from_stage in (None, e.to_stage) else f"{e.from_stage} -> {e.to_stage}"
        )
        print(
            f"  {e.seq:>3} {e.at.astimezone(zone):%Y-%m-%d %H:%M:%S} {e.actor} ({e.role}) "
            f"{move} {e.reason} {e.note}".rstrip()
        )
    return 0


def coverage_command(args: argparse.Namespace, config: Config) -> int:
    settings = settings_from_config(config)
    with ExitStack() as stack, psycopg.connect(services.database_url(config, stack)) as conn:
        venues = coverage(conn, SystemClock().now(), settings.zone)
    for v in venues:
        if args.overdue and v.state is not Coverage.OVERDUE:
            continue
        last = "never" if v.last_inspected_at is None else f"{v.last_inspected_at:%Y-%m-%d}"
        print(f"{v.venue_id}  {v.community}/{v.grid}  cat {v.category}  last {last}  {v.state}")
    return 0
