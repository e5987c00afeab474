"""The detection and follow-up stages behind ingest, wired for `firewatch run`.

Ingest's one consumer is the `Evaluator` (firewatch.evaluation), which runs each stored batch,
in position order, through a list of stage doors (firewatch.doors): rules give evidence, risk
gives scores, the findings are stored, cases take scans and hazard evidence, alerting takes all
three; each stage records its watermark beside its outputs, and a supervisor retries,
quarantines and reports a stage that raises.
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import timedelta
from zoneinfo import ZoneInfo

import psycopg

from firewatch.alerting import (
    AckSettings,
    Alerting,
    AlertSettings,
    Contacts,
    DeliverySettings,
    EscalationSettings,
    Policy,
    VerifySettings,
)
from firewatch.alerting.notices import control_room_notices
from firewatch.alerting.outbox import Outgoing, enqueue
from firewatch.cases import CaseIntake, CasesSettings, settings_from_config, sweep
from firewatch.config import Config
from firewatch.doors import (
    AlertingDoor,
    CasesDoor,
    Door,
    EvidenceSink,
    FindingsDoor,
    RiskDoor,
    RulesDoor,
)
from firewatch.evaluation import Evaluator, lookback_s
from firewatch.ingest.stream import Consumer
from firewatch.kernel.broker import BrokerAddress
from firewatch.kernel.clock import Clock
from firewatch.models.stage import RiskStage
from firewatch.models.store import load_models, venue_hazards
from firewatch.rules.loader import DEFAULT_DIR
from firewatch.rules.stage import RulesStage
from firewatch.supervision import Supervisor, fault_from_env

log = logging.getLogger("firewatch.engine")

_CASES_SWEEP_S = 600.0


@dataclass
class Stages:
    consumers: list[Consumer]
    health: dict[str, Callable[[], str]] = field(default_factory=dict)
    intake: CaseIntake | None = None
    alert_settings: AlertSettings | None = None
    evaluator: Evaluator | None = None


def alert_settings(config: Config) -> AlertSettings:
    a, n = config.alerting, config.notify
    if a.ack_secret is not None:
        secret = a.ack_secret.get_secret_value().encode()
    else:
        log.warning("alerting.ack_secret is unset: acknowledgement links use a key of this run")
        secret = secrets.token_bytes(32)
    if not (n.sms_url or n.push_url or n.webhook_url):
        log.warning(
            "no notification receiver configured (FIREWATCH_SMS_URL, ...):"
            " alerts are recorded and nobody is told"
        )
    logging.getLogger("httpx").setLevel(logging.WARNING)  # not a line per notification
    return AlertSettings(
        timezone=config.general.timezone,
        policies={venue_type: Policy(p) for venue_type, p in a.policies.items()},
        verify=VerifySettings(persist_s=a.verify_s),
        escalation=EscalationSettings(
            chief_after_s=a.chief_after_s,
            office_after_s=a.office_after_s,
            brigade_after_s=a.brigade_after_s,
            renotify_s=a.renotify_s,
        ),
        delivery=DeliverySettings(
            sms_url=n.sms_url,
            push_url=n.push_url,
            webhook_url=n.webhook_url,
            timeout_s=a.delivery_timeout_s,
            rate_limit=a.rate_limit,
            rate_window_s=a.rate_window_s,
        ),
        ack=AckSettings(base_url=a.ack_base_url, secret=secret, ttl_s=a.ack_ttl_s),
        contacts=Contacts(
            office=tuple(a.office_phones),
            chiefs={k: tuple(v) for k, v in a.chief_phones.items()},
            grid_staff={k: tuple(v) for k, v in a.grid_staff.items()},
        ),
    )


def start_stages(
    config: Config,
    url: str,
    clock: Clock,
    stack: ExitStack,
    stop: threading.Event,
    *,
    broker: BrokerAddress | None = None,
    client_id: str = "firewatch-engine",
    more_sinks: Sequence[EvidenceSink] = (),
    partition: str = "p1of1",
) -> Stages:
    def connect() -> psycopg.Connection:
        return psycopg.connect(url)

    with connect() as conn:
        model_set, venues = load_models(conn), venue_hazards(conn)
    cases_settings = settings_from_config(config)
    intake = stack.enter_context(CaseIntake(connect, clock, cases_settings))
    caught = intake.catch_up(clock.now() - timedelta(seconds=config.ingest.max_age_s))
    if caught:
        log.info("applied %d stored scans the cases stage had not seen", len(caught))
    alerting_settings = alert_settings(config)
    zone = ZoneInfo(config.general.timezone)
    notices = EngineNotices(connect, clock, alerting_settings)
    supervisor = Supervisor(
        connect, clock, partition, notices.send, zone,
        retries=config.engine.stage_retries, first_backoff_s=config.engine.retry_backoff_s,
        fault=fault_from_env(), stop=stop,
    )  # fmt: skip
    alerting = stack.enter_context(
        Alerting(
            connect,
            clock,
            alerting_settings,
            broker=broker,
            client_id=client_id,
            incidents=intake,
            supervision=supervisor,
        )
    )
    notices.wake = alerting.stage.on_queued
    risk = RiskStage(model_set, None, venues=venues)
    rules = stack.enter_context(
        RulesStage(
            connect,
            clock,
            zone,
            directory=config.rules.dir or DEFAULT_DIR,
            reload_s=config.rules.reload_s,
            registry_refresh_s=config.rules.registry_refresh_s,
            store_evidence=False,  # the evaluator stores it, with the rules' watermark
        )
    )
    assert rules.engine is not None
    assert rules.watcher is not None
    watcher = rules.watcher
    lookback = lookback_s(rules.engine.library.longest_window_s(), config.engine.warm_lookback_s)
    # The stages in flow order, each through the one door (firewatch.doors).
    doors: list[Door] = [
        RulesDoor(rules.engine),
        RiskDoor(risk),
        FindingsDoor(connect, clock, more_sinks),
        CasesDoor(intake),
        AlertingDoor(alerting.stage),
    ]
    evaluator = Evaluator(
        connect, clock, partition, doors, supervisor,
        lookback=lookback, lag_alert_s=config.engine.lag_alert_s,
    )  # fmt: skip
    thread = evaluator.start(stop)
    stack.callback(thread.join, 60)  # before alerting and cases close (the stack unwinds)
    threading.Thread(
        target=_sweep_cases,
        args=(url, clock, cases_settings, stop),
        name="cases-sweep",
        daemon=True,
    ).start()

    def rules_health() -> str:
        if watcher.last_error is not None:
            return "the last edit of the rules was refused; the earlier rules are in force"
        return supervisor.health("rules")

    def alerting_health() -> str:
        threads = alerting.health()
        return threads if threads != "ok" else supervisor.health("alerting")

    return Stages(
        consumers=[evaluator],
        health={
            "rules": rules_health,
            "risk": lambda: supervisor.health("risk"),
            "cases": lambda: supervisor.health("cases"),
            "alerting": alerting_health,
            "evaluation": evaluator.health,
        },
        evaluator=evaluator,
        intake=intake,
        alert_settings=alerting_settings,
    )


class EngineNotices:
    """Notices about the engine itself, queued in the alerting outbox for the control room
    (office phones by SMS, the platform by webhook), each key once; the deliverer sends them
    with the same retries as any alert's."""

    def __init__(self, connect: Callable[[], psycopg.Connection], clock: Clock,
                 settings: AlertSettings) -> None:  # fmt: skip
        self._connect = connect
        self._clock = clock
        self._settings = settings
        self.wake: Callable[[], None] = lambda: None

    def send(self, key: str, level: str, title: str, text: str) -> None:
        d, office = self._settings.delivery, self._settings.contacts.office
        notices = control_room_notices(
            office, d.channels, key=key, level=level, title=title, text=text
        )
        log.warning("control room notified: %s: %s", title, text)
        if not notices:
            return
        items = [
            Outgoing(n.notification_id, n.idem_key, None, n.channel, n.recipient, "engine",
                     key.split("/")[2] if key.count("/") >= 2 else "engine", n.level,
                     n.body.decode())
            for n in notices
        ]  # fmt: skip
        try:
            with self._connect() as conn, conn.transaction():
                enqueue(conn, items, self._clock.now())
        except psycopg.Error:
            log.exception("engine notice %s not queued", key)
            return
        self.wake()


def _sweep_cases(url: str, clock: Clock, settings: CasesSettings, stop: threading.Event) -> None:
    """Deadlines, reminders, listing proposals, overdue inspections: every few minutes."""
    while not stop.wait(_CASES_SWEEP_S):
        try:
            with psycopg.connect(url, autocommit=True) as conn:
                sweep(conn, clock.now(), settings)
        except psycopg.Error as exc:
            log.warning("cases sweep failed, will retry: %s", exc)
