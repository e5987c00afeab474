"""`firewatch demo`: the whole system on one machine with nothing configured.

Embedded (or configured) PostgreSQL and MQTT broker, the schema, a sample subdistrict, the
engine (`firewatch run`) on a clock running `--speed` times faster than the wall clock, the
simulators playing a scripted day of incidents on the same clock, a local receiver printing
every SMS / push / webhook as it arrives, the API, a live summary and a final one.
"""

from __future__ import annotations

import dataclasses
import logging
import tempfile
import threading
import time
from collections.abc import Sequence
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg

from firewatch import services
from firewatch.clock import ScaledClock, SystemClock
from firewatch.config import Config, mask_url
from firewatch.db.migrate import migrate
from firewatch.engine import run_engine
from firewatch.receiver import NotificationReceiver
from firewatch.registry import import_registry
from simulators import registry_files
from simulators.clock import AcceleratedClock
from simulators.player import Player
from simulators.scenarios import LIBRARY, compose
from simulators.scenarios.compose import Run
from simulators.subdistrict import Subdistrict, generate

log = logging.getLogger("firewatch.demo")

DAY: tuple[str, ...] = tuple(LIBRARY)

_COUNTS = """
SELECT (SELECT count(*) FROM reading), (SELECT count(*) FROM device_event),
       (SELECT count(*) FROM rejected_message), (SELECT count(*) FROM evidence),
       (SELECT count(*) FROM hazard_case),
       (SELECT count(*) FROM alert WHERE kind = 'fire' AND confirmed_at IS NOT NULL)
"""


def _only_used(world: Subdistrict, run: Run) -> Subdistrict:
    """The subdistrict's registry cut down to the devices the day's scenarios use, so that the
    thousands of silent others do not all go offline at the demo's speed."""
    used = {m.topic.split("/")[3] for m in run.messages}
    devices = tuple(d for d in world.devices if d.device_id in used)
    venues = {d.venue_id for d in devices} | {t.venue_id for t in run.truths}
    return dataclasses.replace(
        world, devices=devices, venues=tuple(v for v in world.venues if v.venue_id in venues)
    )


def _summary(url: str) -> str:
    with psycopg.connect(url) as conn:
        row = conn.execute(_COUNTS).fetchone()
    assert row is not None
    readings, events, rejected, evidence, cases, fires = row
    return (
        f"readings {readings}, events {events}, rejected {rejected}, evidence {evidence}, "
        f"confirmed fire alerts {fires}, cases {cases}"
    )


def _outcomes(url: str, run: Run) -> list[str]:
    lines = []
    with psycopg.connect(url) as conn:
        for truth in run.truths:
            row = conn.execute(
                "SELECT (SELECT level || ' ' || score FROM risk_score WHERE venue_id = %(v)s"
                "        AND scope = 'venue' ORDER BY score DESC LIMIT 1),"
                " (SELECT count(*) FROM hazard_case WHERE venue_id = %(v)s),"
                " (SELECT string_agg(DISTINCT kind || ':' || state, ', ') FROM alert"
                "  WHERE venue_id = %(v)s),"
                " (SELECT string_agg(DISTINCT rule_id, ', ') FROM evidence WHERE venue_id = %(v)s)",
                {"v": truth.venue_id},
            ).fetchone()
            alert, cases, alerts, rules = row if row else (None, 0, None, None)
            lines.append(
                f"  {truth.scenario:<26} expected {truth.expected!s:<13} "
                f"alerts {alerts or '-':<22} peak risk {alert or '-':<10} cases {cases}"
                f"  rules: {rules or '-'}"
            )
    return lines


def _receiver_urls(config: Config, base: str) -> dict[str, str]:
    """Configured receivers are kept; the others point at the demo's own printer."""
    current = config.notify.model_dump()
    channels = ("sms_url", "push_url", "webhook_url")
    return {k: current[k] or f"{base}/{k.removesuffix('_url')}" for k in channels}


def say(text: str) -> None:
    print(text, flush=True)


def run_demo(
    config: Config,
    hold: bool,
    *,
    speed: float = 600.0,
    scenarios: Sequence[str] = DAY,
    seed: int = 1,
) -> int:
    with ExitStack() as stack:
        url = services.database_url(config, stack)
        broker = services.broker_address(config, stack)
        with psycopg.connect(url, autocommit=True) as conn:
            migrated = migrate(conn, datetime.now(UTC).date())
        start = datetime.now(UTC)
        world = generate(seed)
        run = compose(list(scenarios), world, seed=seed, start=start,
                      zone=ZoneInfo(config.general.timezone))  # fmt: skip
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="fw-demo-")))
        registry_files.write(_only_used(world, run), folder)
        with psycopg.connect(url) as conn:
            imported = import_registry([folder / registry_files.JSON_NAME], conn)
        receiver = stack.enter_context(NotificationReceiver(say))
        engine_config = config.model_copy(
            update={"notify": config.notify.model_copy(update=_receiver_urls(config, receiver.url))}
        )
        real = SystemClock()
        clock = ScaledClock(real, speed, start)
        stop, ready = threading.Event(), threading.Event()
        engine = threading.Thread(
            target=run_engine,
            args=(engine_config, clock, stop),
            kwargs={"ready": ready, "resolved": (url, broker)},
            name="engine", daemon=True,
        )  # fmt: skip
        engine.start()
        if not ready.wait(60):
            say("the engine did not start; see the log above")
            return 1
        span = (max(m.at for m in run.messages) - start).total_seconds()
        say("\n".join([
            "firewatch demo is up:",
            f"  database   {mask_url(url)} ({migrated.backend})",
            f"  broker     mqtt://{broker.host}:{broker.port}",
            f"  API        http://{config.api.bind} (/healthz, /metrics, /api/v1/docs)",
            f"  registry   {imported}",
            f"  day        {len(run.truths)} scenarios, {len(run.messages)} messages, "
            f"{span / 3600:.1f} simulated hours at {speed:g}x: about {span / speed:.0f} s",
        ]))  # fmt: skip
        player = Player(broker, AcceleratedClock(real, speed=speed, sim_start=start),
                        client_id="fw-demo")  # fmt: skip
        played = threading.Thread(target=player.play, args=(run.messages,), name="simulators")
        played.start()
        while played.is_alive():
            played.join(5)
            say(f"[{clock.now().astimezone(ZoneInfo(config.general.timezone)):%H:%M} local] "
                f"{_summary(url)}, notifications {len(receiver.received)}")  # fmt: skip
        time.sleep(3)  # the last batches, verification windows and deliveries
        say("\nthe day is over:")
        say(f"  {_summary(url)}, notifications {len(receiver.received)}")
        for line in _outcomes(url, run):
            say(line)
        if hold:
            say("The engine and services stay up until Ctrl-C.")
            try:
                while engine.is_alive():
                    engine.join(1)
            except KeyboardInterrupt:
                pass
        stop.set()
        engine.join(60)
    return 0
