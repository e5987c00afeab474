"""The detection and follow-up stages behind ingest, wired for `firewatch run`.

Evidence flows rules → (risk, cases, alerting); every stage is an `ingest.stream.Consumer`
fed the committed batches in order, rules first so that its evidence reaches the risk stage
before the batch itself does.
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

from alerting import (
    AckSettings,
    Alerting,
    AlertSettings,
    Contacts,
    DeliverySettings,
    EscalationSettings,
    Policy,
    VerifySettings,
)
from cases import CaseIntake, CasesSettings, settings_from_config, sweep
from firewatch.clock import Clock
from firewatch.config import Config
from firewatch.services import BrokerAddress
from ingest.stream import Consumer
from models.fusion import RiskScore
from models.stage import RiskSink, RiskStage
from models.store import ScoreWriter, load_models, venue_hazards
from rules.evidence import Evidence
from rules.loader import DEFAULT_DIR
from rules.stage import RulesStage

log = logging.getLogger("firewatch.engine")

_CASES_SWEEP_S = 600.0

EvidenceSink = Callable[[Sequence[Evidence]], object]


@dataclass
class Stages:
    consumers: list[Consumer]
    health: dict[str, Callable[[], str]] = field(default_factory=dict)
    intake: CaseIntake | None = None
    alert_settings: AlertSettings | None = None


class _Scores:
    """Risk scores to their store and to the alerting stage."""

    def __init__(self, *sinks: RiskSink) -> None:
        self._sinks = sinks

    def write(self, scores: Sequence[RiskScore]) -> None:
        for sink in self._sinks:
            sink.write(scores)


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
    alerting = stack.enter_context(
        Alerting(
            connect,
            clock,
            alerting_settings,
            broker=broker,
            client_id=client_id,
            incidents=intake,
        )
    )
    risk = RiskStage(model_set, _Scores(ScoreWriter(connect), alerting.stage), venues=venues)
    rules = stack.enter_context(
        RulesStage(
            connect,
            clock,
            ZoneInfo(config.general.timezone),
            directory=config.rules.dir or DEFAULT_DIR,
            reload_s=config.rules.reload_s,
            registry_refresh_s=config.rules.registry_refresh_s,
            sinks=[
                risk.take_evidence,
                intake.take_evidence,
                alerting.stage.take_evidence,
                *more_sinks,
            ],
        )
    )
    assert rules.engine is not None
    assert rules.watcher is not None
    watcher = rules.watcher
    threading.Thread(
        target=_sweep_cases,
        args=(url, clock, cases_settings, stop),
        name="cases-sweep",
        daemon=True,
    ).start()
    return Stages(
        consumers=[rules.engine, risk, intake, alerting.stage],
        health={
            "rules": lambda: (
                "ok"
                if watcher.last_error is None
                else "the last edit of the rules was refused; the earlier rules are in force"
            ),
            "alerting": alerting.health,
        },
        intake=intake,
        alert_settings=alerting_settings,
    )


def _sweep_cases(url: str, clock: Clock, settings: CasesSettings, stop: threading.Event) -> None:
    """Deadlines, reminders, listing proposals, overdue inspections: every few minutes."""
    while not stop.wait(_CASES_SWEEP_S):
        try:
            with psycopg.connect(url, autocommit=True) as conn:
                sweep(conn, clock.now(), settings)
        except psycopg.Error as exc:
            log.warning("cases sweep failed, will retry: %s", exc)
