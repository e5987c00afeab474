"""Evaluation lag as a signal (issue 15): stored input that no stage has evaluated for longer
than `engine.lag_alert_s` is itself an alert to the control room, and a metric per stage.

The engine's stages start (as `firewatch run` starts them) on a store holding batches committed
a minute ago that nobody evaluated — the state a crash or a long stall leaves. The start-up
replay evaluates them; on the way the lag is seen, the control room's phone gets the notice
through the real receiver, and once caught up the lag metric is back to 0.
"""

from __future__ import annotations

import json
import threading
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from typing import cast

import psycopg
from prometheus_client import REGISTRY

from firewatch.config import Config
from firewatch.ingest.records import Reading
from firewatch.ingest.store import BatchWriter
from firewatch.kernel.clock import SystemClock
from firewatch.kernel.contract import DeviceKind
from firewatch.stages import start_stages
from tests.alerting.receiver import receiver, wait_for
from tests.reliability.homes import seed_homes

OFFICE = "+8602100000119"


def test_a_minute_old_backlog_alerts_the_control_room_and_shows_in_the_metric(
    fresh_db: str,
) -> None:
    seed_homes(fresh_db, "MS-L", "+8613930000001", {"L-1": "LAG-1"})
    with psycopg.connect(fresh_db) as conn:
        minute_ago = datetime.now(UTC) - timedelta(seconds=60)
        writer = BatchWriter(conn, partition="p1of1", now=lambda: minute_ago)
        for seq in range(3):
            ts = minute_ago + timedelta(seconds=seq)
            record = Reading(ts, ts, "LAG-1", DeviceKind.SMOKE, "L-1", "Xinhua", "G-03", "MS-L", seq,
                             smoke_obs=0.1, temp_c=22.0, co_ppm=1.0, alarm=False)  # fmt: skip
            writer.write([record], [], flush_liveness=False)
    with receiver() as r, ExitStack() as stack:
        config = Config.model_validate(
            {
                "notify": {"sms_url": r.url("sms"), "webhook_url": r.url("hook")},
                "alerting": {"office_phones": [OFFICE]},
                "engine": {"lag_alert_s": 5},
            }
        )
        stop = threading.Event()
        stages = start_stages(config, fresh_db, SystemClock(), stack, stop, partition="p1of1")
        stack.callback(stop.set)
        evaluator = stages.evaluator
        assert evaluator is not None

        def told() -> list[dict[str, object]]:
            bodies = [json.loads(b[0]) for b in r.bodies.values()]
            return [b for b in bodies if b["title"] == "引擎评估滞后"]

        # By SMS to the office phone and by webhook to the platform: both must arrive.
        wait_for(lambda: len(told()) >= 2, 30, "the control room told of the lag")
        wait_for(lambda: evaluator.caught_up(3), 30, "the backlog evaluated")
        notices = told()
        assert {tuple(cast(list[str], n["to"])) for n in notices} == {(OFFICE,), ("control-room",)}
        assert all(n["alert_id"] is None for n in notices)
        assert "p1of1" in str(notices[0]["text"]) and "秒前存入" in str(notices[0]["text"])
        wait_for(lambda: stages.health["evaluation"]() == "ok", 10, "the lag gone from health")
        gauge = "firewatch_evaluation_lag_seconds"
        wait_for(lambda: REGISTRY.get_sample_value(gauge, {"stage": "alerting"}) == 0, 10,
                 "the lag metric back to 0 once caught up")  # fmt: skip
    with psycopg.connect(fresh_db) as conn:
        marks: dict[str, int] = dict(
            conn.execute("SELECT stage, pos FROM stage_watermark").fetchall()
        )
    assert marks["rules"] == 3 and marks["alerting"] == 3, marks
