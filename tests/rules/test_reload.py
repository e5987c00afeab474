"""Hot reload against a running engine: the real broker, the ingest pipeline and the rules
stage as its consumer. A changed file takes effect without a restart; an invalid one is
refused with file, line and reason, and the rules in force stay."""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import paho.mqtt.client as mqtt
import psycopg
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from firewatch.ingest.decode import DecodeLimits
from firewatch.ingest.pipeline import IngestPipeline, IngestSettings
from firewatch.ingest.subscribe import Subscriber
from firewatch.kernel import topics
from firewatch.kernel.broker import BrokerAddress
from firewatch.kernel.clock import SystemClock
from firewatch.rules.errors import RuleLibraryError
from firewatch.rules.evidence import Evidence
from firewatch.rules.stage import RulesStage
from firewatch.rules.watch import Reload
from tests.ingest.seed import seed_registry
from tests.rules.helpers import ZONE, write_rules
from tests.support.mosquitto import PrivateMosquitto

RULE = """\
rules:
  - id: t.hot
    version: {version}
    type: threshold
    scope: device
    category: fire
    level: red
    description: hot
    match: {{message: reading, kind: smoke}}
    when: temp_c >= {limit}
"""


@dataclass
class Running:
    stage: RulesStage
    found: list[Evidence]
    device: mqtt.Client
    seq: list[int]

    def reading(self, device: str, temp_c: float) -> None:
        self.seq[0] += 1
        ts = int(datetime.now(UTC).timestamp() * 1000)
        body = {"ts": ts, "seq": self.seq[0], "smoke_obs": 0.1, "temp_c": temp_c, "alarm": False}
        info = self.device.publish(topics.reading("smoke", device), json.dumps(body), qos=1)
        info.wait_for_publish(10)


def _wait(check: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


@pytest.fixture
def running(fresh_db: str, engine_broker: PrivateMosquitto, tmp_path: Path) -> Iterator[Running]:
    seed_registry(fresh_db)
    write_rules(tmp_path, "hot.yaml", RULE.format(version=1, limit=57))
    clock = SystemClock()
    found: list[Evidence] = []
    broker = BrokerAddress("127.0.0.1", engine_broker.port, None, None, tls=False)
    connect = lambda: psycopg.connect(fresh_db)  # noqa: E731
    with (
        Subscriber(broker, f"fw-reload-{secrets.token_hex(4)}", clock, session_expiry_s=600,
                   capacity=10_000) as subscriber,
        RulesStage(connect, clock, ZONE, directory=tmp_path, reload_s=0.05,
                   sinks=[found.extend]) as stage,
    ):  # fmt: skip
        assert stage.engine is not None
        settings = IngestSettings(100, 0.02, DecodeLimits(300, 7 * 86400))
        pipeline = IngestPipeline(subscriber, connect, clock, settings, [stage.engine])
        stop = threading.Event()
        thread = threading.Thread(target=pipeline.run, args=(stop,), daemon=True)
        thread.start()
        device = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"dev-{secrets.token_hex(4)}")
        device.connect("127.0.0.1", engine_broker.port)
        device.loop_start()
        try:
            yield Running(stage, found, device, [0])
        finally:
            device.loop_stop()
            device.disconnect()
            stop.set()
            thread.join(30)


def _hits(found: list[Evidence]) -> list[tuple[str, int]]:
    return [(e.subject_id, e.rule_version) for e in found]


def test_a_changed_rule_file_takes_effect_and_a_bad_one_is_refused(
    running: Running, caplog: pytest.LogCaptureFixture
) -> None:
    stage, found = running.stage, running.found
    assert stage.watcher is not None and stage.engine is not None
    rules_dir = stage.watcher.directory
    running.reading("SMK-1", 60.0)
    _wait(lambda: _hits(found) == [("SMK-1", 1)])

    # An officer raises the limit to 70 °C: reloaded while the engine runs.
    write_rules(rules_dir, "hot.yaml", RULE.format(version=2, limit=70))
    _wait(lambda: [r.outcome for r in stage.watcher.history] == [Reload.RELOADED])  # type: ignore[union-attr]
    running.reading("SMK-2", 65.0)  # would have fired under version 1
    running.reading("SMK-2", 75.0)
    _wait(lambda: _hits(found) == [("SMK-1", 1), ("SMK-2", 2)])

    # A broken edit: refused with file, line and reason; version 2 stays in force.
    bad = write_rules(
        rules_dir, "hot.yaml", RULE.format(version=3, limit=50).replace("red", "crimson")
    )
    _wait(lambda: len(stage.watcher.history) == 2)  # type: ignore[union-attr]
    assert stage.watcher.history[-1].outcome is Reload.REFUSED
    assert (
        str(stage.watcher.last_error)
        == f"{bad}:7: rules[0].level: 'crimson' is not a level (red, orange, yellow, blue)"
    )
    assert f"{bad}:7: rules[0].level" in caplog.text and "the rules in force stay" in caplog.text
    running.reading("SMK-2", 60.0)  # would fire under the refused version 3
    running.reading("SMK-1", 20.0)
    running.reading("SMK-1", 71.0)
    _wait(lambda: len(found) == 3)
    time.sleep(0.3)  # nothing more comes
    assert _hits(found) == [("SMK-1", 1), ("SMK-2", 2), ("SMK-1", 2)]
    assert stage.engine.library.rules[0].version == 2

    # Fixed again: taken.
    write_rules(rules_dir, "hot.yaml", RULE.format(version=4, limit=57))
    _wait(lambda: stage.watcher.history[-1].outcome is Reload.RELOADED)  # type: ignore[union-attr]
    assert stage.watcher.last_error is None


def test_an_invalid_library_stops_the_stage_from_starting(fresh_db: str, tmp_path: Path) -> None:
    write_rules(tmp_path, "hot.yaml", "rules:\n  - id: t.hot\n    version: one\n")
    stage = RulesStage(lambda: psycopg.connect(fresh_db), SystemClock(), ZONE, directory=tmp_path)
    with pytest.raises(
        RuleLibraryError, match=r"hot.yaml:3: rules\[0\].version: expected a whole number"
    ):
        stage.__enter__()
