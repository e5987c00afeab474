"""End to end: the simulators' scans and sensor traffic through the real broker and ingest into
cases, with the simulated subdistrict's registry; then the month's assessment in three forms.

The rules stage is built elsewhere; a stand-in rule here turns the load meters'
`ebike_load_detected` events into the hazard evidence the real rule will give.
"""

from __future__ import annotations

import argparse
import json
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest

from firewatch import cli_cases as cli
from firewatch.cases import CaseIntake, CasesSettings, Reason, Stage, load, move
from firewatch.cases.assessment import Month
from firewatch.config import Config
from firewatch.ingest.decode import DecodeLimits
from firewatch.ingest.pipeline import IngestPipeline, IngestSettings
from firewatch.ingest.records import DeviceEvent
from firewatch.ingest.stream import Batch
from firewatch.ingest.subscribe import Subscriber
from firewatch.kernel.broker import BrokerAddress
from firewatch.kernel.clock import SystemClock
from firewatch.kernel.contract import Level
from firewatch.registry import import_registry
from firewatch.rules.evidence import Category, Evidence, ReadingRef, Scope
from firewatch.simulators import registry_files
from firewatch.simulators.clock import InstantClock
from firewatch.simulators.player import Player
from firewatch.simulators.records import Message
from firewatch.simulators.scenarios import compose
from firewatch.simulators.subdistrict import generate
from tests.cases.support import INSPECTOR
from tests.simulators.helpers import clear_retained
from tests.support.mosquitto import PrivateMosquitto

pytestmark = pytest.mark.slow


class StandInRule:
    """What the indoor-charging rule will do: a recognised e-bike charger is hazard evidence."""

    def __init__(self, intake: CaseIntake) -> None:
        self._intake = intake

    def consume(self, batch: Batch) -> None:
        found = [
            Evidence(
                "indoor_charging",
                1,
                Category.HAZARD,
                Level.YELLOW,
                Scope.DEVICE,
                r.device_id,
                r.venue_id,
                (r.device_id,),
                r.ts,
                f"e-bike charger recognised ({r.confidence:.2f}) at {r.venue_id}",
                (ReadingRef(r.device_id, r.ts, r.seq, "event", r.event, "device_event"),),
                hazard="indoor_ebike_charging",
            )
            for r in batch.records
            if isinstance(r, DeviceEvent) and r.event == "ebike_load_detected"
        ]
        if found:
            self._intake.take_evidence(found)


def wait_for(check: Callable[[], bool], what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def engine(fresh_db: str, engine_broker: PrivateMosquitto, tmp_path: Path) -> Iterator[CaseIntake]:
    """The simulated subdistrict's registry, and ingest running with the cases stage on it."""
    world = generate(1)
    with psycopg.connect(fresh_db) as conn:
        import_registry([registry_files.write(world, tmp_path / "registry")[0]], conn)
    clock = SystemClock()
    broker = BrokerAddress("127.0.0.1", engine_broker.port, None, None, tls=False)
    intake = CaseIntake(lambda: psycopg.connect(fresh_db), clock, CasesSettings())
    with Subscriber(
        broker, f"fw-cases-{secrets.token_hex(3)}", clock, session_expiry_s=600, capacity=10_000
    ) as subscriber:
        settings = IngestSettings(
            500, 0.05, DecodeLimits(300, 7 * 86400), registry_refresh_s=0.5, liveness_sweep_s=5.0
        )
        pipeline = IngestPipeline(
            subscriber,
            lambda: psycopg.connect(fresh_db),
            clock,
            settings,
            [intake, StandInRule(intake)],
        )
        stop = threading.Event()
        thread = threading.Thread(target=pipeline.run, args=(stop,), daemon=True)
        thread.start()
        try:
            yield intake
        finally:
            stop.set()
            thread.join(30)
            intake.close()


@pytest.fixture
def retained(engine_broker: PrivateMosquitto) -> Iterator[set[str]]:
    """Topics the test left retained on the shared broker, cleared afterwards: other tests'
    pipelines must not receive this subdistrict's availability messages."""
    topics: set[str] = set()
    yield topics
    if topics:
        clear_retained(("127.0.0.1", engine_broker.port), sorted(topics))


def _play(port: int, messages: list[Message]) -> None:
    broker = BrokerAddress("127.0.0.1", port, None, None, tls=False)
    Player(broker, InstantClock(messages[0].at), client_id=f"fw-sim-{secrets.token_hex(3)}").play(
        messages
    )


def _cases(url: str) -> list[tuple[str, str, str, str]]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT case_id, venue_id, hazard, stage FROM hazard_case ORDER BY case_id"
        ).fetchall()
    return [(str(a), str(b), str(c), str(d)) for a, b, c, d in rows]


def test_simulated_scans_and_sensors_open_update_and_move_cases(
    engine: CaseIntake,
    fresh_db: str,
    engine_broker: PrivateMosquitto,
    tmp_path: Path,
    retained: set[str],
) -> None:
    start = SystemClock().now().replace(microsecond=0) - timedelta(days=2)
    run = compose(["inspection_rectification", "indoor_charging"], generate(1), seed=1, start=start)
    scans = {t.scenario: t for t in run.truths}
    shop = scans["inspection_rectification"].venue_id
    flat = scans["indoor_charging"].venue_id
    rectification = next(m for m in run.messages if b'"rectification"' in m.payload)
    inspection = next(m for m in run.messages if b'"inspection"' in m.payload)
    retained.update(m.topic for m in run.messages if m.retain or m.will)
    _play(engine_broker.port, [m for m in run.messages if m is not rectification])

    # The inspection failed three items: three cases; the meter's recognition: one more.
    wait_for(lambda: len(_cases(fresh_db)) == 4, "four cases")
    opened = _cases(fresh_db)
    at_shop = [c for c in opened if c[1] == shop]
    failed = json.loads(inspection.payload)["items"]
    assert len(at_shop) == 3 and all(c[3] == "reported" for c in opened)
    assert {c[2] for c in at_shop} >= {"kitchen_flue_cleaned"}  # the venue's own item, as is
    assert len([i for i in failed if not i["ok"]]) == 3
    charging = next(c for c in opened if c[1] == flat)
    assert charging[2] == "indoor_ebike_charging"
    with psycopg.connect(fresh_db) as conn:
        evidence_case = load(conn, charging[0])
    assert evidence_case.history[0].reason is Reason.OPENED_FROM_EVIDENCE
    assert evidence_case.history[0].actor == "rule:indoor_charging"

    # The venue's rectification, with the engine's case id substituted for the stand-in.
    named = at_shop[0][0]
    body = json.loads(rectification.payload)
    assert body["case_id"].startswith(f"CASE-{shop}-")
    body["case_id"] = named
    fixed = Message(rectification.at, rectification.topic, json.dumps(body).encode())
    _play(engine_broker.port, [fixed])
    wait_for(
        lambda: all(c[3] == "verifying" for c in _cases(fresh_db) if c[1] == shop),
        "the shop's cases in verification",
    )
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        reasons = {cid: load(conn, cid).history[-1].reason for cid, *_ in at_shop}
        assert reasons[named] is Reason.RECTIFICATION_SCAN
        assert {r for cid, r in reasons.items() if cid != named} == {Reason.RECTIFICATION_ITEM}
        # The inspector verifies an hour after the fix (simulated time): one closed, one returned.
        now, checked = SystemClock().now(), rectification.at + timedelta(hours=1)
        move(conn, named, Stage.CLOSED, INSPECTOR, now=now, at=checked, note="复查合格")
        returned = at_shop[1][0]
        move(conn, returned, Stage.HANDLING, INSPECTOR, now=now, at=checked, note="整改不到位")

    # The next inspection finds the returned hazard again: the open case is updated.
    again = json.loads(inspection.payload) | {
        "seq": 9,
        "ts": (start + timedelta(hours=12)).isoformat(),
    }
    _play(
        engine_broker.port, [Message(inspection.at, inspection.topic, json.dumps(again).encode())]
    )

    def found_again() -> bool:
        with psycopg.connect(fresh_db) as conn:
            return load(conn, returned).found_count == 2

    wait_for(found_again, "the returned case found again")
    assert len(_cases(fresh_db)) == 5  # the closed one comes back as a new case (a relapse)
    with psycopg.connect(fresh_db) as conn:
        relapse = next(
            load(conn, c[0]) for c in _cases(fresh_db) if c[0] not in {x[0] for x in opened}
        )
    assert relapse.recurrence_of == named
    assert relapse.history[-1].reason is Reason.LISTING_PROPOSED_RECURRENCE

    # The month's assessment, in all three forms, for the simulated subdistrict.
    month = Month.parse(f"{start.astimezone(CasesSettings().zone):%Y-%m}")
    parser = argparse.ArgumentParser(prog="firewatch")
    cli.add_commands(parser.add_subparsers(dest="command"))
    config = Config.model_validate({"database": {"url": fresh_db}})
    for form in ("table", "csv", "html"):
        out = tmp_path / f"report.{form}"
        args = parser.parse_args(
            ["report", "assessment", "--month", str(month), "--format", form, "--out", str(out)]
        )
        assert args.handler(args, config) == 0
        text = out.read_text(encoding="utf-8")
        assert all(name in text for name in ("梅园", "松林", "枫林")), form
