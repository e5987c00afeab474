"""`firewatch simulate load --rate R --duration S [--devices N | --registry FILE] [--bursty]`.

`add_commands(simulate_subparsers)` registers the `load` action under `simulate`; the handler
has the command-line signature `(args, config) -> int`.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final, TextIO

from firewatch.config import Config, mask_url
from firewatch.kernel.broker import BrokerAddress
from firewatch.simulators.errors import DeviceListError, LoadError, ScheduleError
from firewatch.simulators.load.devices import devices_from_registry, generate_devices
from firewatch.simulators.load.registry import registry_document
from firewatch.simulators.load.report import LoadReport
from firewatch.simulators.load.runner import LoadProgress, run_load
from firewatch.simulators.load.schedule import Burst

DEFAULT_URL: Final = "mqtt://127.0.0.1:1883"


def add_commands(subparsers: Any) -> None:
    """Register `load` on the `simulate` command's subparsers (argparse `_SubParsersAction`)."""
    load = subparsers.add_parser(
        "load",
        help="publish contract traffic at a given rate, QoS 1, counting every PUBACK",
        description="N devices of every kind at R messages/s in total, steady or bursty; "
        "reports the rate achieved and the messages acknowledged per kind and type. "
        "Only brokers on this machine (loopback) are accepted as targets.",
    )
    load.add_argument(
        "--rate", type=float, default=1000.0, metavar="R", help="messages/s in total (default 1000)"
    )
    load.add_argument(
        "--duration", type=float, default=60.0, metavar="S", help="seconds (default 60)"
    )
    who = load.add_mutually_exclusive_group()
    who.add_argument(
        "--devices", type=int, default=2000, metavar="N", help="generated devices LOAD-<kind>-<n>"
    )
    who.add_argument(
        "--registry",
        type=Path,
        metavar="FILE",
        help="take the devices of a registry (JSON document, devices CSV or their folder)",
    )
    load.add_argument(
        "--bursty", action="store_true", help="bursts at 3x the mean rate, 5 s in every 20 s"
    )
    load.add_argument("--processes", type=int, default=None, help="publisher connections")
    load.add_argument(
        "--mqtt-url",
        metavar="URL",
        help=f"mqtt://user:pass@host:port (default: the configured broker, else {DEFAULT_URL})",
    )
    load.add_argument("--json", action="store_true", help="print the report as JSON at the end")
    load.add_argument(
        "--registry-out",
        type=Path,
        metavar="FILE",
        help="write a registry document of the generated devices (for `firewatch registry "
        "import`, so that the engine stores their messages) and exit without publishing",
    )
    load.set_defaults(handler=simulate_load)


def _broker(args: argparse.Namespace, config: Config) -> BrokerAddress:
    if args.mqtt_url:
        url = str(args.mqtt_url)
    elif config.mqtt.url is not None:
        url = config.mqtt.url.get_secret_value()
    else:
        url = DEFAULT_URL
    address = BrokerAddress.from_url(url)
    if address.tls:
        raise LoadError(f"{mask_url(url)}: the load generator speaks plain MQTT to a local broker")
    return address


def progress_printer(stream: TextIO) -> Callable[[LoadProgress], None]:
    """One status line, redrawn in place on a terminal, every 5 s of the run otherwise."""
    tty = stream.isatty()
    last = {"elapsed": 0.0, "acked": 0.0, "printed": -math.inf}

    def show(p: LoadProgress) -> None:
        span = p.elapsed_s - last["elapsed"]
        if span <= 0 or (not tty and p.elapsed_s - last["printed"] < 5.0):
            return
        rate = (p.acked - last["acked"]) / span
        last.update(elapsed=p.elapsed_s, acked=p.acked, printed=p.elapsed_s)
        line = (
            f"{p.elapsed_s:6.1f}/{p.duration_s:.0f} s  acked {p.acked:>11,}  "
            f"now {rate:>9,.0f}/s  behind schedule {max(p.target - p.published, 0):>9,}"
        )
        stream.write(f"\r{line}" if tty else f"{line}\n")
        stream.flush()

    return show


def _summary(report: LoadReport) -> str:
    kinds = ", ".join(f"{k} {n:,}" for k, n in report.per_kind.items())
    types = ", ".join(f"{t} {n:,}" for t, n in report.per_type.items())
    return (
        f"acknowledged {report.acked:,} of {report.published:,} published "
        f"in {report.duration_s:.1f} s: {report.achieved_per_s:,.0f} messages/s "
        f"(target {report.target_per_s:,.0f}/s, {report.processes} connections, "
        f"{len(report.devices):,} devices)\n  by kind: {kinds}\n  by type: {types}"
        + ("\n  stopped early by Ctrl-C" if report.stopped_early else "")
    )


def simulate_load(args: argparse.Namespace, config: Config) -> int:
    if args.registry_out:
        document = registry_document(generate_devices(args.devices))
        args.registry_out.write_text(json.dumps(document, indent=1), encoding="utf-8")
        print(f"wrote {len(document['devices']):,} devices to {args.registry_out}", file=sys.stderr)
        return 0
    try:
        address = _broker(args, config)
        devices = (
            devices_from_registry(args.registry)
            if args.registry
            else generate_devices(args.devices)
        )
        report = run_load(
            address.host,
            address.port,
            devices,
            args.rate,
            args.duration,
            processes=args.processes,
            bursty=args.bursty,
            burst=Burst() if args.bursty else None,
            username=address.username,
            password=address.password,
            progress=progress_printer(sys.stderr),
        )
    except (LoadError, DeviceListError, ScheduleError) as exc:
        newline = "\n" if sys.stderr.isatty() else ""
        print(f"{newline}simulate load: {exc}", file=sys.stderr)
        return 1
    print(("\n" if sys.stderr.isatty() else "") + _summary(report), file=sys.stderr)
    if args.json:
        print(json.dumps(report.summary()))
    return 0 if report.lost == 0 and not report.stopped_early else 1
