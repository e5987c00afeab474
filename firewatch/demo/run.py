"""`firewatch demo`: the whole system on one machine with nothing configured.

Embedded (or configured) PostgreSQL and MQTT broker, the schema, a sample subdistrict, the
engine (`firewatch run`, unchanged) and the simulators on one `DayClock` that runs incidents at
10x and the quiet hours at `--speed`, the stations' members answering their calls through the
API, the charging ports and gas valves answering their commands, a local receiver printing
every SMS / push / webhook, a live summary, and at the end each scenario's outcome against its
ground truth.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import secrets
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Final
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo

import psycopg
from psycopg import sql
from pydantic import SecretStr

from firewatch import services
from firewatch.auth.roles import Role
from firewatch.auth.users import create_user
from firewatch.config import AlertingConfig, Config, mask_url
from firewatch.db.migrate import migrate
from firewatch.demo.field import COMMANDED, CommandedDevices
from firewatch.demo.pace import DayClock, Pace, moments, wall_seconds
from firewatch.demo.people import StationMembers
from firewatch.demo.verdict import Verdict, judge, notification_counts
from firewatch.engine import run_engine
from firewatch.kernel import topics
from firewatch.kernel.broker import BrokerAddress
from firewatch.kernel.clock import SystemClock
from firewatch.receiver import NotificationReceiver
from firewatch.registry import import_registry
from firewatch.simulators import registry_files
from firewatch.simulators.clock import InstantClock
from firewatch.simulators.player import Player
from firewatch.simulators.records import Message
from firewatch.simulators.scenarios import LIBRARY, compose
from firewatch.simulators.scenarios.compose import Run
from firewatch.simulators.subdistrict import Subdistrict, generate

log = logging.getLogger("firewatch.demo")

DAY: tuple[str, ...] = tuple(LIBRARY)
DEMO_DATABASE: Final = "firewatch_demo"
AFTER_S: Final = 3.0  # wall seconds after the day for the last batches and deliveries
TAIL_S: Final = 300.0  # after the last scenario: its last answers, its stations standing down
HOLD_DAYS: Final = 2  # devices keep their heartbeat this long after the start, while held up
SESSION_S: Final = 60  # the demo engine's MQTT session outlives it by this much, no more

_COUNTS = """
SELECT (SELECT count(*) FROM reading), (SELECT count(*) FROM device_event),
       (SELECT count(*) FROM rejected_message), (SELECT count(*) FROM evidence),
       (SELECT count(*) FROM alert WHERE kind = 'fire' AND confirmed_at IS NOT NULL),
       (SELECT count(*) FROM alert WHERE kind = 'fire' AND confirmed_at IS NULL),
       (SELECT count(*) FROM alert WHERE kind = 'trouble'),
       (SELECT count(*) FROM hazard_case WHERE kind = 'incident'),
       (SELECT count(*) FROM hazard_case WHERE kind = 'hazard')
"""
_SAY = threading.Lock()


def say(text: str) -> None:
    """One whole line at a time: the receiver prints from several threads at once."""
    with _SAY:
        sys.stdout.write(text + "\n")
        sys.stdout.flush()


@dataclass(frozen=True, slots=True)
class Day:
    """What is played: the run (with the devices' heartbeats after the day), its end."""

    world: Subdistrict
    run: Run
    start: datetime
    end: datetime

    @property
    def messages(self) -> list[Message]:
        return [m for m in self.run.messages if m.at <= self.end]


def plan(scenarios: Sequence[str], seed: int, zone: ZoneInfo, hours: float | None) -> Day:
    start = datetime.now(UTC).replace(microsecond=0)
    world = generate(seed)
    run = compose(list(scenarios), world, seed=seed, start=start, zone=zone,
                  keep_alive=start + timedelta(days=HOLD_DAYS))  # fmt: skip
    end = max(t.end for t in run.truths) + timedelta(seconds=TAIL_S)
    if hours is not None:
        end = min(end, start + timedelta(hours=hours))
    return Day(world, run, start, end)


def _only_used(world: Subdistrict, run: Run) -> Subdistrict:
    """The subdistrict's registry cut down to the devices the day's scenarios use, so that the
    thousands of silent others do not all go offline at the demo's speed."""
    used = {m.topic.split("/")[3] for m in run.messages}
    devices = tuple(d for d in world.devices if d.device_id in used)
    venues = {d.venue_id for d in devices} | {t.venue_id for t in run.truths}
    return dataclasses.replace(
        world, devices=devices, venues=tuple(v for v in world.venues if v.venue_id in venues)
    )


def _fresh_database(url: str) -> str:
    """The embedded server is the demo's own: each day starts on an empty database, so that a
    second run is not judged by what the first one left open."""
    with psycopg.connect(url, autocommit=True) as conn:
        name = sql.Identifier(DEMO_DATABASE)
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(name))
    return urlunsplit(urlsplit(url)._replace(path=f"/{DEMO_DATABASE}"))


def _forget_yesterday(broker: BrokerAddress, world: Subdistrict, start: datetime) -> None:
    """Clear the sample devices' retained availability: an `offline` Last Will or an `online`
    an earlier demo left on the broker is not news of this day (the day's devices announce
    themselves as it starts; the others are not in its registry)."""
    clear = [Message(start, topics.availability(d.kind, d.device_id), b"", retain=True)
             for d in world.devices]  # fmt: skip
    Player(broker, InstantClock(start), client_id="fw-demo-reset").play(clear)


def _register(url: str, day: Day) -> tuple[str, dict[str, str]]:
    """The day's part of the registry, and one API user per station (its members' app) that
    sees the communities of the venues it answers."""
    world = _only_used(day.world, day.run)
    tag = secrets.token_hex(3)
    with tempfile.TemporaryDirectory(prefix="fw-demo-") as folder:
        registry_files.write(world, Path(folder))
        with psycopg.connect(url) as conn:
            imported = import_registry([Path(folder) / registry_files.JSON_NAME], conn)
            tokens = {
                s.station_id: create_user(
                    conn,
                    f"demo-{s.station_id}-{tag}",
                    Role.STATION,
                    sorted({v.community for v in world.venues if v.station_id == s.station_id}),
                    station_id=s.station_id,
                )
                for s in day.world.stations
            }
    return str(imported), tokens


def _engine_config(config: Config, receiver: str) -> Config:
    """Configured receivers and keys are kept; the rest point at the demo's own. The engine's
    MQTT session is this run's, so that nothing queued for an earlier one is replayed."""
    current = config.notify.model_dump()
    urls = {k: current[k] or f"{receiver}/{k.removesuffix('_url')}"
            for k in ("sms_url", "push_url", "webhook_url")}  # fmt: skip
    alerting: dict[str, object] = {}
    if config.alerting.ack_secret is None:  # the links must work for the members who tap them
        alerting["ack_secret"] = SecretStr(secrets.token_urlsafe(32))
    if config.alerting.ack_base_url == AlertingConfig().ack_base_url:
        alerting["ack_base_url"] = f"http://{config.api.bind}/api/v1/ack"
    mqtt = {"client_id": f"{config.mqtt.client_id[:40]}-demo-{secrets.token_hex(4)}",
            "session_expiry_s": SESSION_S}  # fmt: skip
    return config.model_copy(update={
        "notify": config.notify.model_copy(update=urls),
        "alerting": config.alerting.model_copy(update=alerting),
        "mqtt": config.mqtt.model_copy(update=mqtt),
    })  # fmt: skip


def _summary(url: str, received: int) -> str:
    with psycopg.connect(url) as conn:
        row = conn.execute(_COUNTS).fetchone()
    assert row is not None
    readings, events, rejected, evidence, fires, pre, trouble, incidents, hazards = row
    return (
        f"readings {readings}, events {events}, rejected {rejected}, evidence {evidence}; "
        f"fire alerts confirmed {fires}, pre-alarms {pre}, trouble {trouble}; "
        f"cases: incidents {incidents}, hazards {hazards}; "
        f"notifications {received}"
    )


def run_demo(
    config: Config,
    hold: bool,
    *,
    speed: float = 600.0,
    scenarios: Sequence[str] = DAY,
    seed: int = 1,
    incident_speed: float = 10.0,
    hours: float | None = None,
) -> int:
    """The day, then (`hold`) up until Ctrl-C; 1 when a scenario's outcome was wrong.
    `hours`: play only that much of the day (a shorter demo, for tests)."""
    if not (speed > 0 and math.isfinite(speed)):
        say(f"--speed: expected a positive number, got {speed:g}")
        return 2
    pace = Pace(quiet=speed, incident=min(incident_speed, speed))
    zone = ZoneInfo(config.general.timezone)
    day = plan(scenarios, seed, zone, hours)
    with ExitStack() as stack:
        url = services.database_url(config, stack)
        if config.database.url is None:
            url = _fresh_database(url)
        broker = services.broker_address(config, stack)
        with psycopg.connect(url, autocommit=True) as conn:
            migrated = migrate(conn, datetime.now(UTC).date())
        imported, tokens = _register(url, day)
        _forget_yesterday(broker, day.world, day.start)
        windows = moments(Run(tuple(day.messages), day.run.truths))
        clock = DayClock(SystemClock(), day.start, pace, windows)

        def stamped(text: str) -> None:
            say(f"[{clock.now().astimezone(zone):%H:%M:%S}] {text}")

        world = day.world
        members = StationMembers(
            clock, f"http://{config.api.bind}", tokens=tokens,
            phones={p: s.station_id for s in world.stations for p in s.phones},
            names={s.station_id: s.name for s in world.stations},
            truths=day.run.truths, say=stamped, seed=seed,
        )  # fmt: skip
        receiver = stack.enter_context(NotificationReceiver(stamped, listeners=[members.heard]))
        stop, ready = threading.Event(), threading.Event()
        engine = threading.Thread(
            target=run_engine,
            args=(_engine_config(config, receiver.url), clock, stop),
            kwargs={"ready": ready, "resolved": (url, broker)},
            name="engine", daemon=True,
        )  # fmt: skip
        engine.start()

        def stop_engine() -> None:
            stop.set()
            engine.join(60)

        stack.callback(stop_engine)
        if not ready.wait(60):
            say("the engine did not start; see the log above")
            return 1
        say("\n".join([
            "firewatch demo is up:",
            f"  database   {mask_url(url)} ({migrated.backend})",
            f"  broker     mqtt://{broker.host}:{broker.port}",
            f"  API        http://{config.api.bind} (/healthz, /metrics, /api/v1/docs)",
            f"  registry   {imported}",
            f"  day        {len(day.run.truths)} scenarios, {len(day.messages)} messages, "
            f"{(day.end - day.start).total_seconds() / 3600:.1f} simulated hours: incidents at "
            f"{pace.incident:g}x, the quiet hours at {pace.quiet:g}x; about "
            f"{wall_seconds(day.start, day.end, pace, windows) / 60:.1f} min",
        ]))  # fmt: skip
        stack.enter_context(CommandedDevices(broker, clock, day.run.messages))
        threading.Thread(target=members.run, args=(stop,), name="people", daemon=True).start()
        clock.start()
        _play(broker, clock, day, lambda: _summary(url, len(receiver.received)), zone)
        verdicts = _final(url, day, received=len(receiver.received))
        if hold:
            rest = [m for m in day.run.messages if m.at > day.end]
            threading.Thread(target=Player(broker, clock, client_id="fw-demo-rest").play,
                             args=(rest,), name="simulators-rest", daemon=True).start()  # fmt: skip
            say("The engine and services stay up, the devices alive, in real time until Ctrl-C.")
            try:
                while engine.is_alive():
                    engine.join(1)
            except KeyboardInterrupt:
                pass
    return 1 if any(v.ok is False for v in verdicts) else 0


def _play(broker: BrokerAddress, clock: DayClock, day: Day,
          summary: Callable[[], str], zone: ZoneInfo) -> None:  # fmt: skip
    """The day's traffic on the clock, a live summary every few seconds; then real time."""
    player = Player(broker, clock, client_id="fw-demo")
    played = threading.Thread(target=player.play, args=(day.messages,), name="simulators")
    played.start()
    while played.is_alive():
        played.join(5)
        say(f"[{clock.now().astimezone(zone):%a %H:%M} local] {summary()}")
    clock.real_time_from(clock.now())
    time.sleep(AFTER_S)  # the last batches, verification windows and deliveries


def _final(url: str, day: Day, *, received: int) -> list[Verdict]:
    phones = {p for s in day.world.stations for p in s.phones}
    commanded = {d.device_id for d in day.world.devices if d.kind in COMMANDED}
    with psycopg.connect(url) as conn:
        verdicts = judge(conn, day.run.truths, stations=phones, commanded=commanded,
                         played_to=day.end)  # fmt: skip
        counts = notification_counts(conn, day.start)
    right = sum(v.ok is True for v in verdicts)
    wrong = sum(v.ok is False for v in verdicts)
    say(f"\nthe day is over: {_summary(url, received)}")
    say("  notifications by purpose: " + ", ".join(f"{p} {n}" for p, n in counts.items()))
    say(f"  outcome against ground truth: {right} as expected, {wrong} wrong, "
        f"{len(verdicts) - right - wrong} not judged")  # fmt: skip
    for v in verdicts:
        say(v.line())
    return verdicts
