# Chinese texts in the seeded registry and the expected notices.
"""A stage that raises on a batch (issue 15, supervised stages), on the real engine.

The test-only fault hook (`FW_TEST_FAULT=stage:device`) makes one stage raise on every
batch that holds that device. The batch is retried with backoff, then quarantined (kept with
the error, listed by the API, counted in `/metrics`); the stage's part of `/healthz` turns
unhealthy and the control room's phones get a trouble notice through the real receiver; every
other stage, and the same stage on other batches, goes on.
"""

from __future__ import annotations

import json
import secrets
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from firewatch.kernel import topics
from tests.alerting.receiver import receiver
from tests.ingest.publish import publish_all
from tests.reliability.engine_process import EngineProcess
from tests.reliability.homes import seed_homes
from tests.reliability.test_kill_alerts import rows, wait_for
from tests.support.mosquitto import PrivateMosquitto

pytestmark = pytest.mark.slow

OFFICE = "+8602100000119"
ADMIN = "supervised-stages-admin-token-0123456789"


def seed(url: str) -> None:
    seed_homes(url, "MS-S", "+8613920000001", {"S-F": "SMK-F", "S-OK": "SMK-OK"})


def alarm(seq: int) -> dict[str, object]:
    return {"ts": datetime.now(UTC).isoformat(), "seq": seq, "smoke_obs": 40, "temp_c": 75,
            "co_ppm": 400, "alarm": True}  # fmt: skip


@pytest.mark.parametrize("stage", ["rules", "alerting"])
def test_a_failing_stage_is_retried_quarantined_reported_and_the_rest_goes_on(
    stage: str, fresh_db: str, engine_broker: PrivateMosquitto, tmp_path: Path
) -> None:
    seed(fresh_db)
    (tmp_path / "firewatch.toml").write_text(f'[alerting]\noffice_phones = ["{OFFICE}"]\n')
    engine = EngineProcess(fresh_db, engine_broker.url, f"fw-s-{secrets.token_hex(3)}", tmp_path)
    with receiver() as r:
        engine.env |= {
            "FW_TEST_FAULT": f"{stage}:SMK-F",
            "FIREWATCH_ENGINE__STAGE_RETRIES": "2",
            "FIREWATCH_ENGINE__RETRY_BACKOFF_S": "0.1",
            "FIREWATCH_SMS_URL": r.url("sms"),
            "FIREWATCH_WEBHOOK_URL": r.url("hook"),
            "FIREWATCH_API__ADMIN_TOKEN": ADMIN,
        }
        base = f"http://127.0.0.1:{engine.api_port}"
        try:
            engine.start()
            publish_all(engine_broker.port, [(topics.reading("smoke", "SMK-F"), alarm(1))])
            wait_for(lambda: rows(fresh_db, "SELECT * FROM quarantined_batch"),
                     "the failing batch quarantined", stage, 30)  # fmt: skip
            time.sleep(0.3)  # one batch apart from the failing one
            publish_all(engine_broker.port, [(topics.reading("smoke", "SMK-OK"), alarm(1))])

            def office_told() -> list[dict[str, object]]:
                bodies = [json.loads(b[0]) for b in r.bodies.values()]
                return [b for b in bodies if b["title"] == "引擎降级" and OFFICE in b["to"]]

            told = wait_for(office_told, "the control room's trouble notice", stage, 30)
            wait_for(lambda: rows(fresh_db, "SELECT 1 FROM alert WHERE venue_id = 'S-OK'"),
                     "the healthy detector's alert", stage, 30)  # fmt: skip
            health = httpx.get(f"{base}/healthz")
            metrics = httpx.get(f"{base}/metrics").text
            listed = httpx.get(f"{base}/api/v1/quarantined",
                               headers={"authorization": f"Bearer {ADMIN}"})  # fmt: skip
        finally:
            engine.stop()

    kept = rows(fresh_db, "SELECT * FROM quarantined_batch ORDER BY id")
    assert {(q["stage"], q["attempts"], q["pos"]) for q in kept} == {(stage, 3, kept[0]["pos"])}, (
        kept
    )
    assert all("InjectedFaultError" in q["error"] for q in kept)
    # The last try takes the batch apart (records, alerting's inputs): each failing one is kept.
    assert all("SMK-F" in q["item"] for q in kept), kept
    if stage == "rules":
        assert len(kept) == 1 and "Reading(" in kept[0]["item"]
    assert health.status_code == 503, health.text
    stages = health.json()["stages"]
    assert stages[stage] != "ok" and "InjectedFaultError" in stages[stage], stages
    assert all(v == "ok" for k, v in stages.items() if k != stage), stages
    assert f'firewatch_quarantined_total{{stage="{stage}"}} 1.0' in metrics
    assert f'firewatch_stage_failures_total{{stage="{stage}"}} 3.0' in metrics
    assert listed.status_code == 200
    assert [(i["stage"], i["position"]) for i in listed.json()["items"]] == [
        (stage, kept[0]["pos"])
    ] * len(kept)
    assert len(told) == 1 and ("规则" if stage == "rules" else "报警") in str(told[0]["text"]), told
    assert told[0]["alert_id"] is None
    # The other detector went through every stage, the failing stage included.
    assert rows(fresh_db, "SELECT 1 FROM evidence WHERE subject_id = 'SMK-OK'")
    evidence_f = rows(fresh_db, "SELECT 1 FROM evidence WHERE subject_id = 'SMK-F'")
    alert_f = rows(fresh_db, "SELECT 1 FROM alert WHERE venue_id = 'S-F'")
    if stage == "rules":
        # No evidence from the quarantined batch; the risk stage scored it all the same.
        assert not evidence_f and not alert_f
        assert rows(fresh_db, "SELECT 1 FROM risk_score WHERE subject_id = 'SMK-F'")
    else:
        assert evidence_f and not alert_f  # the rules went on; alerting kept it aside
    marks = rows(fresh_db, "SELECT stage, pos FROM stage_watermark ORDER BY stage")
    assert {m["stage"] for m in marks} >= {"rules", "alerting"}
    assert all(m["pos"] >= kept[0]["pos"] for m in marks), marks  # every stage moved past it
