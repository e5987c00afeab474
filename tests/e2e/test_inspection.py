"""An enterprise-code (企业码) inspection that fails items opens hazard cases; the venue's
rectification scan, naming one case, sends them all to verification; an inspector closes one.
Nobody is called: hazards are cases, not alarms."""

from __future__ import annotations

import json
from typing import Any

import pytest

from firewatch.simulators.records import Message
from tests.e2e.harness import alerts_at, live_engine, wait_for
from tests.support.mosquitto import PrivateMosquitto

pytestmark = pytest.mark.slow

SCENARIO = "inspection_rectification"
# The scenario inspects 30 min in and rectifies 6 h after: the engine starts just before the
# rectification, so the self-check and the inspection are the morning's scans, sent at once.
SKIP_S = 1800.0 + 6 * 3600.0 - 60.0


def test_a_failed_inspection_opens_cases_that_a_rectification_sends_to_verification(
    fresh_db: str, broker: PrivateMosquitto
) -> None:
    with live_engine(fresh_db, broker, [SCENARIO], speed=30, skip_s=SKIP_S) as live:
        scans = live.truth(SCENARIO)
        venue = scans.venue_id
        *morning, fix = live.run.messages
        inspection = json.loads(morning[1].payload)
        failed = [i["item"] for i in inspection["items"] if not i["ok"]]
        assert inspection["scan_type"] == "inspection" and len(failed) == 3
        live.play(morning)
        live.played()

        # Each failed item is a hazard case at 上报 (reported), waiting for the control room.
        def reported() -> list[dict[str, Any]]:
            items = live.get("/api/v1/cases", venue_id=venue)["items"]
            return items if len(items) == len(failed) else []

        cases = wait_for(reported, f"{len(failed)} hazard cases at {venue}")
        assert {(c["kind"], c["stage"], c["source"]) for c in cases} == {
            ("hazard", "reported", "scan")
        }
        assert "kitchen_flue_cleaned" in {c["hazard"] for c in cases}  # the venue's own item
        for case in cases:
            assert case["due_at"] > case["opened_at"] and case["supervision"] == "none", case

        # The venue's rectification names one case (the simulator's stand-in id replaced by
        # the engine's, as the venue's app would) and reports every failed item fixed.
        named = cases[0]["case_id"]
        body = json.loads(fix.payload)
        assert body["scan_type"] == "rectification" and body["case_id"].startswith("CASE-")
        body["case_id"] = named
        live.play([Message(fix.at, fix.topic, json.dumps(body, ensure_ascii=False).encode())])
        live.played()

        def verifying() -> list[dict[str, Any]]:
            items = live.get("/api/v1/cases", venue_id=venue, stage="verifying")["items"]
            return items if len(items) == len(failed) else []

        wait_for(verifying, "every case at 核查 (verifying)")
        reasons = {
            c["case_id"]: live.get(f"/api/v1/cases/{c['case_id']}")["history"][-1]["reason"]
            for c in cases
        }
        assert reasons.pop(named) == "rectification_scan"
        assert set(reasons.values()) == {"rectification_item"}

        # The grid inspector checks on site and closes the named case; the others wait.
        moved = live.call("POST", f"/api/v1/cases/{named}/move", "inspector",
                          json={"to": "closed", "note": "复查合格"})  # fmt: skip
        assert moved["stage"] == "closed"
        case = live.get(f"/api/v1/cases/{named}")
        assert case["stage"] == "closed" and case["closed_at"] is not None
        steps = [(h["to_stage"], h["reason"]) for h in case["history"]]
        assert steps == [
            ("discovered", "opened_from_scan"),  # 发现: the inspector's failed item
            ("reported", "reported"),  # 上报 at once: waiting for 立案
            ("verifying", "rectification_scan"),  # 核查: the venue says it is fixed
            ("closed", "verified_closed"),  # 结案: checked on site
        ]
        stamps = [h["at"] for h in case["history"]]
        assert stamps == sorted(stamps), "the history is in the order things happened"
        still = live.get("/api/v1/cases", venue_id=venue, stage="verifying")["items"]
        assert len(still) == len(failed) - 1

        # Scans call nobody and raise no alert.
        assert alerts_at(live, venue) == []
        assert live.notices() == []
