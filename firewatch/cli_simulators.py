"""`firewatch simulate ...`: the simulators' commands, registered by the firewatch command line.

    firewatch simulate subdistrict --seed 1 --out DIR
    firewatch simulate scenarios
    firewatch simulate scenario NAME|all --speed 60 --seed 1 --truth FILE [--mqtt-url URL]

This is the simulators' composition root: the only place in this package that makes a real
clock (`SystemClock`) and opens the broker from the configuration.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from contextlib import ExitStack
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from firewatch import services
from firewatch.config import Config
from firewatch.kernel.broker import BrokerAddress
from firewatch.kernel.clock import SystemClock
from firewatch.simulators import registry_files
from firewatch.simulators.clock import AcceleratedClock, InstantClock, SimClock
from firewatch.simulators.errors import PlayError
from firewatch.simulators.player import Player
from firewatch.simulators.progress import ProgressLine
from firewatch.simulators.records import traffic_lines, truth_lines
from firewatch.simulators.scenarios import LIBRARY, compose, resolve
from firewatch.simulators.subdistrict import generate

if TYPE_CHECKING:  # argparse's class is generic only to type checkers
    Actions = argparse._SubParsersAction[argparse.ArgumentParser]


def _speed(text: str) -> float:
    if text == "max":
        return math.inf
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number or max, got {text!r}")
    return value


def _start(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        value = None
    if value is None or value.tzinfo is None:
        raise argparse.ArgumentTypeError(f"expected RFC 3339 with an offset, got {text!r}")
    return value


def _mqtt_url(text: str) -> str:
    parts = urlsplit(text)
    if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
        raise argparse.ArgumentTypeError(f"expected mqtt://user:pass@host:port, got {text!r}")
    return text


def add_commands(subparsers: Actions) -> Actions:
    """Register `simulate` and its actions; returns the actions, for `simulate load` to join."""
    simulate = subparsers.add_parser("simulate", help="simulated field devices and scenarios")
    actions: Actions = simulate.add_subparsers(dest="action", required=True, metavar="ACTION")

    sub = actions.add_parser("subdistrict", help="write a sample subdistrict's registry files")
    sub.add_argument("--seed", type=int, default=1, help="same seed, same files (default 1)")
    sub.add_argument("--out", type=Path, required=True, help="directory to write into")
    sub.set_defaults(handler=subdistrict_command)

    listing = actions.add_parser("scenarios", help="list the scenario library")
    listing.set_defaults(handler=scenarios_command)

    play = actions.add_parser("scenario", help="play scenarios to the broker, write ground truth")
    play.add_argument("name", help="a scenario name (see `simulate scenarios`) or all")
    play.add_argument("--speed", type=_speed, default=60.0, help="times real time, or max")
    play.add_argument("--seed", type=int, default=1, help="subdistrict and scenario seed")
    play.add_argument("--truth", type=Path, required=True, help="ground truth out (JSON Lines)")
    play.add_argument("--mqtt-url", type=_mqtt_url, help="broker (default: the configured one)")
    play.add_argument("--start", type=_start, help="simulated start, RFC 3339 (default: now)")
    play.add_argument("--traffic", type=Path, help="also write the traffic (JSON Lines)")
    play.add_argument("--dry-run", action="store_true", help="write files, publish nothing")
    play.set_defaults(handler=scenario_command)
    return actions


def subdistrict_command(args: argparse.Namespace, config: Config) -> int:
    world = generate(args.seed)
    written = registry_files.write(world, args.out)
    print(
        f"subdistrict seed {args.seed}: {len(world.stations)} stations, {len(world.venues)} "
        f"venues, {len(world.devices)} devices\n"
        + "".join(f"  {path}\n" for path in written)
        + f"import one of them: firewatch registry import {written[0]}"
    )
    return 0


def scenarios_command(args: argparse.Namespace, config: Config) -> int:
    width = max(len(name) for name in LIBRARY)
    for spec in LIBRARY.values():
        night = (
            f" (starts {spec.local_start[0]:02d}:{spec.local_start[1]:02d})"
            if spec.local_start
            else ""
        )
        print(f"{spec.name:<{width}}  {spec.summary}{night}")
    return 0


def scenario_command(args: argparse.Namespace, config: Config) -> int:
    try:
        names = resolve(args.name)
    except LookupError as exc:
        print(f"firewatch simulate: {exc}", file=sys.stderr)
        return 2
    real = SystemClock()
    start = args.start or real.now().replace(microsecond=0)
    zone = ZoneInfo(config.general.timezone)
    run = compose(names, generate(args.seed), seed=args.seed, start=start, zone=zone)
    args.truth.write_text(truth_lines(run.truths), encoding="utf-8")
    if args.traffic is not None:
        args.traffic.write_text(traffic_lines(run.messages), encoding="utf-8")
    span = run.end - run.start
    print(f"{len(names)} scenario(s), {len(run.messages)} messages over {span} simulated, "
          f"devices of subdistrict seed {args.seed}; ground truth in {args.truth}")  # fmt: skip
    if args.dry_run:
        return 0
    clock: SimClock = (
        InstantClock(run.start)
        if math.isinf(args.speed)
        else AcceleratedClock(real, speed=args.speed, sim_start=run.start)
    )
    progress = ProgressLine(sys.stderr, real.monotonic)
    with ExitStack() as stack:
        if args.mqtt_url is not None:
            broker = BrokerAddress.from_url(args.mqtt_url)
        else:
            broker = services.broker_address(config, stack)
        player = Player(broker, clock, client_id=f"fw-sim-{os.getpid()}", progress=progress)
        try:
            report = player.play(run.messages)
        except PlayError as exc:
            print(f"firewatch simulate: {exc}", file=sys.stderr)
            return 1
    print(f"published {report.published} messages, {report.wills} Last Will(s) by the broker")
    return 0
