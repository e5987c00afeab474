"""A stored day, back-tested, gives what the live engine found on that day.

Live: the simulators' scenarios of a day, published to a real Mosquitto, through the real
ingest pipeline into PostgreSQL, with the rules stage (engine, evidence writer, watcher) as its
consumer. Back-test: the same day read back from the tables, through a fresh engine.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from argparse import Namespace
from collections import Counter
from datetime import datetime, timedelta
from datetime import time as clock_time
from pathlib import Path

import psycopg
import pytest

from firewatch.cli_rules import backtest_command
from firewatch.config import Config
from firewatch.ingest.decode import DecodeLimits
from firewatch.ingest.pipeline import IngestPipeline, IngestSettings
from firewatch.ingest.subscribe import Subscriber
from firewatch.kernel.broker import BrokerAddress
from firewatch.kernel.clock import SystemClock
from firewatch.registry import import_registry
from firewatch.rules.backtest import run_backtest
from firewatch.rules.evidence import Evidence
from firewatch.rules.stage import RulesStage
from firewatch.rules.store import read_evidence
from firewatch.simulators import registry_files
from firewatch.simulators.scenarios import Run, compose
from tests.ingest.publish import publish_all
from tests.rules.helpers import ZONE, default_library
from tests.simulators.helpers import world
from tests.support.mosquitto import PrivateMosquitto

SCENARIOS = (
    "flaming_fire", "smouldering_fire", "cooking_fumes", "tamper", "offline", "thermal_runaway",
    "overcurrent", "indoor_charging", "ebike_in_lift", "sleeping_in_shop",
    "inspection_rectification",
)  # fmt: skip
TABLES = ("reading", "device_event", "device_status", "venue_scan", "device_availability")


def _day() -> tuple[datetime, datetime]:
    """The day before yesterday in Shanghai: a day ingest accepts (device times up to 7 days
    old), far enough back that the whole run is in the past — its scenarios go on into the
    next morning (about 31 h), so from yesterday they reached past now for the first hours
    after midnight, and ingest rightly refused them as from the future."""
    today = datetime.now(ZONE).date()
    start = datetime.combine(today - timedelta(days=2), clock_time(0), ZONE)
    return start, start + timedelta(days=1)


def _stored(url: str) -> int:
    with psycopg.connect(url) as conn:
        return sum(
            (conn.execute(f"SELECT count(*) FROM {table}").fetchone() or (0,))[0]
            for table in TABLES
        )


def _key(e: Evidence) -> tuple[object, ...]:
    return (e.at, e.rule_id, e.subject_id, e.hazard or "", e.summary)


@pytest.fixture
def stored_day(
    fresh_db: str, engine_broker: PrivateMosquitto, tmp_path: Path
) -> tuple[str, Run, list[Evidence]]:
    """The day played live; yields the database, the run and the evidence stored live."""
    start, _ = _day()
    with psycopg.connect(fresh_db) as conn:
        import_registry(registry_files.write(world(1), tmp_path / "registry")[:1], conn)
    run = compose(list(SCENARIOS), world(1), seed=1, start=start + timedelta(minutes=10))
    clock = SystemClock()
    broker = BrokerAddress("127.0.0.1", engine_broker.port, None, None, tls=False)
    connect = lambda: psycopg.connect(fresh_db)  # noqa: E731
    with (
        Subscriber(broker, f"fw-rules-{secrets.token_hex(4)}", clock, session_expiry_s=600,
                   capacity=10_000) as subscriber,
        RulesStage(connect, clock, ZONE, reload_s=0.5) as stage,
    ):  # fmt: skip
        assert stage.engine is not None and stage.writer is not None
        settings = IngestSettings(500, 0.05, DecodeLimits(300, 7 * 86400), registry_refresh_s=0.5)
        pipeline = IngestPipeline(subscriber, connect, clock, settings, [stage.engine])
        stop = threading.Event()
        thread = threading.Thread(target=pipeline.run, args=(stop,), daemon=True)
        thread.start()
        try:
            publish_all(engine_broker.port, [(m.topic, m.payload) for m in run.messages])
            deadline = time.monotonic() + 60
            while _stored(fresh_db) < len(run.messages) and time.monotonic() < deadline:
                time.sleep(0.1)
        finally:
            stop.set()
            thread.join(30)
        assert _stored(fresh_db) == len(run.messages)
        assert stage.writer.flush(20)
    with psycopg.connect(fresh_db) as conn:
        live = read_evidence(conn, *_day())
    return fresh_db, run, live


def test_a_stored_day_back_tested_gives_the_live_hits(
    stored_day: tuple[str, Run, list[Evidence]],
) -> None:
    url, run, live = stored_day
    start, end = _day()
    with psycopg.connect(url) as conn:
        report = run_backtest(conn, default_library(), start, end, ZONE)
    assert len(live) > 25
    assert {e.category for e in live} == {"fire", "hazard", "trouble"}
    assert sorted(map(_key, report.evidence)) == sorted(map(_key, live))
    assert sorted(report.evidence, key=_key) == sorted(live, key=_key)  # readings too
    day = start.date()
    assert report.hits == dict(Counter((e.rule_id, day) for e in live))
    # Availability has no device time: it is replayed by its receipt, today, outside the day;
    # so are the readings of the night after midnight.
    assert 0.8 * len(run.messages) < report.records < len(run.messages)


def test_the_backtest_command_reports_hits_per_rule_per_day(
    stored_day: tuple[str, Run, list[Evidence]], capsys: pytest.CaptureFixture[str]
) -> None:
    url, _, live = stored_day
    start, end = _day()
    config = Config.model_validate({"database": {"url": url}})
    args = Namespace(start=start.date().isoformat(), end=end.date().isoformat(),
                     rule=["heat.rate_of_rise", "scan.item_failed"], dir=None, warmup=None,
                     json=True)  # fmt: skip
    args.dir = default_library().files[0].parent
    assert backtest_command(args, config) == 0
    report = json.loads(capsys.readouterr().out)
    totals = {r["rule"]: r["total"] for r in report["rules"]}
    expected = Counter(e.rule_id for e in live)
    assert totals == {rule: expected[rule] for rule in args.rule}
    assert totals["scan.item_failed"] == 3
    args.json = False
    assert backtest_command(args, config) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[1].split() == ["rule", "version", start.date().isoformat(), "total"]
    assert table[3].split()[0] == "scan.item_failed"
