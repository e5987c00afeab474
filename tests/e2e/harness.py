"""The whole engine (`firewatch.engine.run_engine`) on a scaled clock, fed by the simulators
through a real broker, telling a real HTTP receiver, answering over its own HTTP API.

The engine and the player share one timeline: both clocks are the wall clock run `speed` times
faster from the same moment, so device timestamps and the engine's verification, escalation and
expiry windows agree as they do in the field, only sooner. A scenario composed to start
`skip_s` before that moment publishes its first `skip_s` of traffic (the quiet lead-in the rules
use as a baseline) at once, and the rest on time.
"""

from __future__ import annotations

import dataclasses
import json
import secrets
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime, timedelta
from random import Random
from typing import Any, TypeVar

import httpx
import paho.mqtt.client as mqtt
import psycopg
from paho.mqtt.enums import CallbackAPIVersion
from psycopg.rows import dict_row

from firewatch.auth.roles import Role
from firewatch.auth.users import create_user
from firewatch.config import Config
from firewatch.engine import run_engine
from firewatch.kernel import topics
from firewatch.kernel.broker import BrokerAddress
from firewatch.kernel.clock import ScaledClock, SystemClock
from firewatch.kernel.contract import DeviceKind
from firewatch.kernel.registry import Venue
from firewatch.registry import import_document
from firewatch.simulators.clock import AcceleratedClock
from firewatch.simulators.devices import ChargingStation, GasDetector, profile_for
from firewatch.simulators.player import Player
from firewatch.simulators.records import GroundTruth, Message
from firewatch.simulators.registry_files import document
from firewatch.simulators.scenarios import Run, compose
from firewatch.simulators.subdistrict import Subdistrict, generate
from tests.alerting.receiver import Receiver, receiver
from tests.support.mosquitto import PrivateMosquitto
from tests.support.ports import free_port

T = TypeVar("T")

ACK_SECRET = "e2e-acknowledgement-link-secret-0123456789"
OFFICE = "+8602100000119"  # the subdistrict fire-safety office (alerting.office_phones)
PROBE_START = datetime(2026, 5, 4, 2, 0, tzinfo=UTC)  # only to see which devices a run uses
ANSWER_PORTS = 16
ANSWER_SEQ = 100_000
COMMANDED = (DeviceKind.CHARGING, DeviceKind.GAS)


def wait_for(check: Callable[[], T | None], what: str, timeout: float = 20.0) -> T:
    """Poll until `check` gives something truthy (and return it); fail naming `what`."""
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(0.1)


def registry_for(world: Subdistrict, run: Run) -> Subdistrict:
    """The subdistrict cut down to the run's venues and the devices it plays: the thousands of
    silent others would all go offline within the scaled minutes of a test."""
    used = {m.topic.split("/")[3] for m in run.messages}
    venues = {t.venue_id for t in run.truths}
    return dataclasses.replace(
        world,
        venues=tuple(v for v in world.venues if v.venue_id in venues),
        devices=tuple(d for d in world.devices if d.device_id in used),
    )


class Actuated:
    """The commanded devices' side of `set` (charging ports, gas valves): an MQTT client on
    their command topics that records every command the engine sends and answers it as the
    contract's device does — the port goes off (`power_off`), the valve shuts (`valve_closed`),
    the answer carrying the command's id."""

    def __init__(self, broker: PrivateMosquitto, clock: ScaledClock) -> None:
        self.commands: list[tuple[str, dict[str, Any]]] = []
        self._lock = threading.Lock()
        self._clock = clock
        self._chargers: dict[str, ChargingStation] = {}
        self._valves: dict[str, GasDetector] = {}
        self._client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=f"e2e-actuated-{secrets.token_hex(3)}"
        )
        subscribed = threading.Event()

        def on_connect(c: mqtt.Client, _u: Any, _f: Any, _r: Any, _p: Any) -> None:
            c.subscribe([(topics.command(kind, "+"), 1) for kind in COMMANDED])

        self._client.on_connect = on_connect
        self._client.on_subscribe = lambda *_a: subscribed.set()
        self._client.on_message = self._on_command
        self._client.connect(broker.host, broker.port)
        self._client.loop_start()
        if not subscribed.wait(10):
            raise AssertionError(f"no SUBACK from the broker at {broker.host}:{broker.port}")

    def _charger(self, device_id: str) -> ChargingStation:
        if device_id not in self._chargers:
            rng = Random(device_id)
            profile = profile_for(DeviceKind.CHARGING, 300, rng)
            station = ChargingStation(
                device_id, profile, rng, synced_at=self._clock.now(), ports=ANSWER_PORTS
            )
            # The answer goes on from the device's own counter, well past the scenario's.
            station.seq = ANSWER_SEQ
            self._chargers[device_id] = station
        return self._chargers[device_id]

    def _valve(self, device_id: str) -> GasDetector:
        if device_id not in self._valves:
            rng = Random(device_id)
            profile = profile_for(DeviceKind.GAS, 300, rng)
            detector = GasDetector(device_id, profile, rng, synced_at=self._clock.now())
            detector.seq = ANSWER_SEQ
            self._valves[device_id] = detector
        return self._valves[device_id]

    def _on_command(self, _c: mqtt.Client, _u: Any, message: mqtt.MQTTMessage) -> None:
        body = json.loads(message.payload)
        with self._lock:
            self.commands.append((message.topic, body))
        parts = topics.parse(message.topic)
        if parts is None:
            return
        now, command_id = self._clock.now(), str(body["id"])
        if parts.kind == DeviceKind.CHARGING and body.get("power") == "off":
            answers = self._charger(parts.subject_id).command(now, int(body["port"]), command_id)
        elif parts.kind == DeviceKind.GAS and body.get("valve") == "close":
            answers = self._valve(parts.subject_id).command(now, command_id)
        else:
            return
        for answer in answers:
            self._client.publish(answer.topic, answer.payload, qos=1)

    def seen(self, kind: DeviceKind = DeviceKind.CHARGING) -> list[tuple[str, dict[str, Any]]]:
        """The commands sent to devices of `kind`, in order."""
        with self._lock:
            sent = list(self.commands)
        return [(t, c) for t, c in sent if (p := topics.parse(t)) is not None and p.kind == kind]

    def close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()


@dataclasses.dataclass
class Live:
    """A running engine with its broker, receiver and API, and the run being played to it."""

    url: str
    broker: PrivateMosquitto
    api: str
    tokens: dict[str, str]
    receiver: Receiver
    devices: Actuated
    clock: ScaledClock
    speed: float
    world: Subdistrict
    run: Run
    player: threading.Thread | None = None
    failures: list[BaseException] = dataclasses.field(default_factory=list)

    # -- playing ---------------------------------------------------------------------------------

    def play(self, messages: Sequence[Message]) -> None:
        """Publish `messages` on the shared timeline, in a thread (see `played`)."""
        broker = BrokerAddress(self.broker.host, self.broker.port, None, None, tls=False)
        player = Player(
            broker,
            AcceleratedClock(SystemClock(), speed=self.speed, sim_start=self.clock.now()),
            client_id=f"e2e-sim-{secrets.token_hex(3)}",
        )

        def play() -> None:
            try:
                player.play(messages)
            except BaseException as exc:
                self.failures.append(exc)

        self.player = threading.Thread(target=play, name="e2e-player", daemon=True)
        self.player.start()

    def played(self, timeout: float = 30.0) -> None:
        """Wait for the player to have every message acknowledged by the broker."""
        assert self.player is not None
        self.player.join(timeout)
        assert not self.player.is_alive(), f"the player did not finish in {timeout:g} s"
        assert not self.failures, f"the player failed: {self.failures[0]}"

    def truth(self, scenario: str) -> GroundTruth:
        return next(t for t in self.run.truths if t.scenario == scenario)

    def scene(self, scenario: str) -> tuple[GroundTruth, Venue, set[str]]:
        """A scenario's ground truth, its venue, and the phones of the venue's station."""
        truth = self.truth(scenario)
        return truth, self.world.venue(truth.venue_id), self.station_phones(truth.venue_id)

    # -- reading what the control room sees ------------------------------------------------------

    def rows(self, query: str, *args: object) -> list[dict[str, Any]]:
        with psycopg.connect(self.url) as conn, conn.cursor(row_factory=dict_row) as cur:
            return cur.execute(query, args).fetchall()

    def call(self, method: str, path: str, who: str = "operator", **kw: Any) -> Any:
        """The API as user `who` (operator, inspector); a 200 and its JSON, or a failure."""
        response = httpx.request(
            method,
            f"{self.api}{path}",
            headers={"Authorization": f"Bearer {self.tokens[who]}"},
            timeout=10,
            **kw,
        )
        assert response.status_code == 200, (
            f"{method} {path}: {response.status_code} {response.text}"
        )
        return response.json()

    def get(self, path: str, who: str = "operator", **params: str) -> Any:
        return self.call("GET", path, who, params=params)

    def notices(self) -> list[dict[str, Any]]:
        """Every distinct notification the receiver got (first body of each id)."""
        with self.receiver.lock:
            return [json.loads(bodies[0]) for bodies in self.receiver.bodies.values()]

    def station_phones(self, venue_id: str) -> set[str]:
        """The phones of the venue's responsible micro fire station, from the registry."""
        station = next(v.station_id for v in self.world.venues if v.venue_id == venue_id)
        return set(next(s.phones for s in self.world.stations if s.station_id == station))

    def all_station_phones(self) -> set[str]:
        return {p for s in self.world.stations for p in s.phones}


def _engine_config(url: str, broker: PrivateMosquitto, bind: str, r: Receiver) -> Config:
    return Config.model_validate(
        {
            "database": {"url": url},
            "mqtt": {"url": broker.url, "client_id": f"fw-e2e-{secrets.token_hex(3)}"},
            "api": {"bind": bind},
            "notify": {
                "sms_url": r.url("sms"),
                "push_url": r.url("push"),
                "webhook_url": r.url("hook"),
            },
            "ingest": {"batch_max_age_ms": 50},
            "alerting": {
                "ack_secret": ACK_SECRET,
                "ack_base_url": f"http://{bind}/api/v1/ack",
                "office_phones": [OFFICE],
            },
        }
    )


@contextmanager
def live_engine(
    url: str,
    broker: PrivateMosquitto,
    names: Sequence[str],
    *,
    seed: int = 1,
    speed: float = 30.0,
    skip_s: float = 0.0,
) -> Iterator[Live]:
    """The engine on `url` and `broker` with the registry of the scenarios `names`; yields once
    it is ready, with the run composed to start `skip_s` (simulated) before that moment. The
    caller plays it (`Live.play`)."""
    world = generate(seed)
    probe = compose(list(names), world, seed=seed, start=PROBE_START)
    with psycopg.connect(url) as conn:
        import_document("e2e.json", document(registry_for(world, probe)), conn)
        tokens = {
            "operator": create_user(conn, "e2e-operator", Role.OPERATOR),
            "inspector": create_user(conn, "e2e-inspector", Role.INSPECTOR),
        }
    bind = f"127.0.0.1:{free_port()}"
    with ExitStack() as stack:
        r = stack.enter_context(receiver())
        config = _engine_config(url, broker, bind, r)
        clock = ScaledClock(SystemClock(), speed, datetime.now(UTC).replace(microsecond=0))
        devices = Actuated(broker, clock)
        stack.callback(devices.close)
        stop, ready = threading.Event(), threading.Event()
        crashed: list[BaseException] = []

        def engine() -> None:
            try:
                run_engine(config, clock, stop, ready=ready)
            except BaseException as exc:
                crashed.append(exc)
                raise

        thread = threading.Thread(target=engine, name="e2e-engine", daemon=True)
        thread.start()

        def stopped() -> None:
            stop.set()
            thread.join(60)

        stack.callback(stopped)
        wait_for(lambda: ready.is_set() or crashed, "the engine to start", timeout=60)
        assert not crashed, f"the engine failed at start-up: {crashed[0]!r}"
        # The run's venues do not depend on its start: the probe and the run use the same ones.
        run = compose(list(names), world, seed=seed, start=clock.now() - timedelta(seconds=skip_s))
        live = Live(url, broker, f"http://{bind}", tokens, r, devices, clock, speed, world, run)
        yield live
        assert thread.is_alive(), f"the engine stopped during the test: {crashed}"


# -- what every scenario must show about its notifications -----------------------------------

CONTRACT_FIELDS = frozenset(
    {"id", "channel", "to", "alert_id", "case_id", "level", "title", "text", "ack_url"}
)
LEVELS = frozenset({"red", "orange", "yellow", "blue"})


def delivered_once(live: Live) -> dict[str, dict[str, Any]]:
    """Every notification in the outbox reached the receiver exactly once, as the contract's
    body, byte for byte what the outbox froze; the outbox rows by id (with their purpose)."""

    def settled() -> dict[str, dict[str, Any]] | None:
        rows = {r["notification_id"]: r for r in live.rows("SELECT * FROM notification")}
        with live.receiver.lock:
            received = set(live.receiver.bodies)
        done = all(r["state"] == "delivered" for r in rows.values())
        return rows if done and received == set(rows) else None

    rows = wait_for(settled, "every queued notification delivered", timeout=15)
    with live.receiver.lock:
        bodies = {k: list(v) for k, v in live.receiver.bodies.items()}
    twice = {k: len(v) for k, v in bodies.items() if len(v) != 1}
    assert not twice, f"notification ids posted more than once: {twice}"
    for nid, row in rows.items():
        raw = bodies[nid][0]
        assert raw.decode() == row["body"], f"{nid}: the receiver got other bytes than stored"
        body = json.loads(raw)
        assert set(body) >= CONTRACT_FIELDS, f"{nid}: missing {CONTRACT_FIELDS - set(body)}"
        assert body["id"] == nid and body["channel"] == row["channel"], body
        assert body["level"] == row["level"] and body["level"] in LEVELS, body
        # A webhook goes to the city platform (its recipient) and lists the people told.
        assert row["recipient"] in body["to"] or row["channel"] == "webhook", (row, body)
        assert body["alert_id"] == row["alert_id"] and body["title"] and body["text"], body
        assert body["ack_url"].startswith(f"{live.api}/api/v1/ack?token="), body["ack_url"]
    return rows


ALERT_FIELDS = frozenset({"alert_id", "venue_id", "device_ids", "kind", "level", "state",
                          "opened_at", "confirmed_at", "acked_at"})  # fmt: skip
TIMES = ("opened_at", "confirmed_at", "acked_at", "resolved_at")


def _timed(alert: dict[str, Any]) -> dict[str, Any]:
    return alert | {k: datetime.fromisoformat(alert[k]) if alert[k] else None for k in TIMES}


def alerts_at(live: Live, venue_id: str) -> list[dict[str, Any]]:
    """The venue's alerts as the control room reads them: `GET /api/v1/alerts?since=` (opened
    since the run began), with their times parsed."""
    since = live.run.start.isoformat()
    listed = live.get("/api/v1/alerts", since=since, venue_id=venue_id)
    assert listed["next_cursor"] is None, "more alerts than one page"
    for alert in listed["items"]:
        assert set(alert) >= ALERT_FIELDS, f"missing {ALERT_FIELDS - set(alert)}"
    return [_timed(a) for a in listed["items"]]


def history(live: Live, alert_id: str) -> list[tuple[str, str]]:
    """(state, reason) of each transition, from `GET /api/v1/alerts/{id}`."""
    alert = live.get(f"/api/v1/alerts/{alert_id}")
    return [(h["to_state"], h["reason"]) for h in alert["history"]]
