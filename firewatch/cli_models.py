"""`firewatch models ...` and `firewatch eval`: registered by the firewatch command line.

    firewatch models train --kind fire [--seeds 101-140]
    firewatch models train --kind smoke|charging --from 2026-05-01 --to 2026-05-08
    firewatch models list
    firewatch eval [--quick] [--json]

This is the models stage's composition root: the only place in models/ that reads the wall
clock (an artifact's `created_at`) and opens the database from the configuration.
"""

from __future__ import annotations

import argparse
import json
import sys
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import psycopg

from firewatch import services
from firewatch.config import Config
from firewatch.kernel.clock import SystemClock
from firewatch.kernel.contract import DeviceKind

if TYPE_CHECKING:  # argparse's class is generic only to type checkers
    from firewatch.models.evaluate import RulesFactory

    Actions = argparse._SubParsersAction[argparse.ArgumentParser]

KINDS = ("fire", DeviceKind.SMOKE.value, DeviceKind.CHARGING.value)


def _day(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a date or an RFC 3339 time, got {text!r}"
        ) from None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _seeds(text: str) -> tuple[int, ...]:
    low, _, high = text.partition("-")
    try:
        seeds = tuple(range(int(low), int(high or low) + 1))
    except ValueError:
        seeds = ()
    if not seeds:
        raise argparse.ArgumentTypeError(f"expected a seed or a range like 101-140, got {text!r}")
    return seeds


def add_commands(subparsers: Actions) -> Actions:
    """Register `models` (train, list) and `eval`."""
    models = subparsers.add_parser("models", help="learned models: train and list artifacts")
    actions: Actions = models.add_subparsers(dest="action", required=True, metavar="ACTION")
    train = actions.add_parser("train", help="train a model and store it as a new version")
    train.add_argument(
        "--kind", choices=KINDS, required=True,
        help="fire: the fire classifiers (from the simulators' scenarios); "
        "smoke, charging: that kind's anomaly model (from stored readings)",
    )  # fmt: skip
    train.add_argument("--from", dest="since", type=_day, help="stored readings from (UTC)")
    train.add_argument("--to", dest="until", type=_day, help="... up to, not including (UTC)")
    train.add_argument("--seeds", type=_seeds, help="fire: scenario seeds, e.g. 101-140")
    train.set_defaults(handler=train_command)
    listing = actions.add_parser("list", help="every stored artifact version")
    listing.set_defaults(handler=list_command)

    ev = subparsers.add_parser("eval", help="detection against the scenarios' ground truth")
    ev.add_argument("--quick", action="store_true", help="fewer seeds and a shorter quiet day")
    ev.add_argument("--json", action="store_true", help="end with one JSON line of figures")
    ev.add_argument("--data", type=Path, help="the real data folder (default ../shared/data)")
    ev.add_argument("--no-rules", action="store_true", help="models and baselines alone")
    ev.set_defaults(handler=eval_command)
    return actions


def train_command(args: argparse.Namespace, config: Config) -> int:
    from firewatch.models import store, training
    from firewatch.models.labels import labelled

    now = SystemClock().now()
    if args.kind == "fire":
        seeds = args.seeds or training.TRAIN_SEEDS
        data = labelled(seeds)
        held = labelled(training.HELD_OUT_SEEDS)
        artifacts = [
            training.train_classifier(k, now, seeds=seeds, data=data, test=held)
            for k in (DeviceKind.SMOKE, DeviceKind.CHARGING)
        ]
        with ExitStack() as stack, psycopg.connect(services.database_url(config, stack)) as conn:
            for artifact in artifacts:
                _report(store.save(conn, artifact))
        return 0
    if args.since is None or args.until is None or args.since >= args.until:
        print("firewatch models train: --from and --to are needed, --from before --to",
              file=sys.stderr)  # fmt: skip
        return 2
    kind = DeviceKind(args.kind)
    validation = labelled(training.HELD_OUT_SEEDS)[kind]
    with ExitStack() as stack, psycopg.connect(services.database_url(config, stack)) as conn:
        history = store.history_features(conn, kind, args.since, args.until)
        try:
            artifact = training.train_anomaly(
                kind, history, validation, now, trained_from=args.since, trained_to=args.until,
                source=f"stored {kind} readings {args.since.isoformat()} .. "
                f"{args.until.isoformat()}",
            )  # fmt: skip
        except ValueError as exc:
            print(f"firewatch models train: {exc}", file=sys.stderr)
            return 1
        _report(store.save(conn, artifact))
    return 0


def _report(artifact: object) -> None:
    from firewatch.models.artifact import Artifact

    assert isinstance(artifact, Artifact)
    i = artifact.info
    print(f"stored {i.label} ({i.algorithm}, {i.device_kind}): {i.training_data}; "
          f"metrics {json.dumps(i.metrics)}")  # fmt: skip


def list_command(args: argparse.Namespace, config: Config) -> int:
    from firewatch.models import store

    with ExitStack() as stack, psycopg.connect(services.database_url(config, stack)) as conn:
        rows = store.listing(conn)
    if not rows:
        print("no model artifacts stored: the engine runs on rules and baselines alone")
        return 0
    print(f"{'name':<18} {'ver':>3}  {'algorithm':<19} {'created at':<20} {'KiB':>6}  "
          "training data / metrics")  # fmt: skip
    for info, size, _fmt in rows:
        created = info.created_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
        print(f"{info.name:<18} {info.version:>3}  {info.algorithm:<19} {created:<20} "
              f"{size / 1024:>6.1f}  {info.training_data}; {json.dumps(info.metrics)}")  # fmt: skip
    return 0


def eval_command(args: argparse.Namespace, config: Config) -> int:
    from firewatch.models.errors import DataMissingError
    from firewatch.models.evaluate import default_rules, run_eval, table
    from firewatch.models.realdata import DATA_DIR

    def say(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    try:
        rules: RulesFactory | None = None if args.no_rules else default_rules
        report = run_eval(
            quick=args.quick, data=args.data or DATA_DIR, say=say, created_at=SystemClock().now(),
            rules=rules,
        )  # fmt: skip
    except DataMissingError as exc:
        print(f"firewatch eval: {exc}", file=sys.stderr)
        return 1
    print(table(report))
    if args.json:
        print(json.dumps(report.summary(), ensure_ascii=False))
    return 0
