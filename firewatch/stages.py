"""The detection and follow-up stages behind ingest, wired for `firewatch run`.

Evidence flows rules → (risk, cases, alerting); every stage is an `ingest.stream.Consumer`
fed the committed batches in order, rules first so that its evidence reaches the risk stage
before the batch itself does.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import timedelta
from zoneinfo import ZoneInfo

import psycopg

from cases import CaseIntake, CasesSettings, settings_from_config, sweep
from firewatch.clock import Clock
from firewatch.config import Config
from ingest.stream import Consumer
from models.stage import RiskStage
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


def start_stages(
    config: Config,
    url: str,
    clock: Clock,
    stack: ExitStack,
    stop: threading.Event,
    *,
    more_sinks: Sequence[EvidenceSink] = (),
) -> Stages:
    def connect() -> psycopg.Connection:
        return psycopg.connect(url)

    with connect() as conn:
        model_set, venues = load_models(conn), venue_hazards(conn)
    risk = RiskStage(model_set, ScoreWriter(connect), venues=venues)
    cases_settings = settings_from_config(config)
    intake = stack.enter_context(CaseIntake(connect, clock, cases_settings))
    caught = intake.catch_up(clock.now() - timedelta(seconds=config.ingest.max_age_s))
    if caught:
        log.info("applied %d stored scans the cases stage had not seen", len(caught))
    rules = stack.enter_context(
        RulesStage(
            connect,
            clock,
            ZoneInfo(config.general.timezone),
            directory=config.rules.dir or DEFAULT_DIR,
            reload_s=config.rules.reload_s,
            registry_refresh_s=config.rules.registry_refresh_s,
            sinks=[risk.take_evidence, intake.take_evidence, *more_sinks],
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
        consumers=[rules.engine, risk, intake],
        health={
            "rules": lambda: (
                "ok"
                if watcher.last_error is None
                else "the last edit of the rules was refused; the earlier rules are in force"
            ),
        },
        intake=intake,
    )


def _sweep_cases(url: str, clock: Clock, settings: CasesSettings, stop: threading.Event) -> None:
    """Deadlines, reminders, listing proposals, overdue inspections: every few minutes."""
    while not stop.wait(_CASES_SWEEP_S):
        try:
            with psycopg.connect(url, autocommit=True) as conn:
                sweep(conn, clock.now(), settings)
        except psycopg.Error as exc:
            log.warning("cases sweep failed, will retry: %s", exc)
