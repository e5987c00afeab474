"""Risk, the monthly assessment and inspection coverage through the API, each within the
caller's communities."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import psycopg
from psycopg.types.json import Jsonb

from tests.api.conftest import Api

NOW = datetime.now(UTC)


def _score(conn: psycopg.Connection, scope: str, subject: str, venue: str | None,
           community: str, minutes_ago: float, score: int, level: str) -> None:  # fmt: skip
    conn.execute(
        "INSERT INTO risk_score (at, scope, subject_id, venue_id, community, score, level, basis,"
        " reasons) VALUES (%s, %s, %s, %s, %s, %s, %s, 'rules+models', %s)",
        (NOW - timedelta(minutes=minutes_ago), scope, subject, venue, community, score, level,
         Jsonb([{"source": "rule", "name": "smoke_rise", "version": 1}])),
    )  # fmt: skip


def test_risk_per_venue_and_community_latest_and_over_time(api: Api) -> None:
    with psycopg.connect(api.db_url) as conn:
        _score(conn, "venue", "V-HOME", "V-HOME", "Xinhua", 30, 20, "blue")
        _score(conn, "venue", "V-HOME", "V-HOME", "Xinhua", 5, 81, "orange")
        _score(conn, "venue", "V-SHED", "V-SHED", "Xinhua", 10, 45, "yellow")
        _score(conn, "venue", "V-OTHER", "V-OTHER", "Riverside", 10, 90, "red")
        _score(conn, "community", "Xinhua", None, "Xinhua", 5, 50, "yellow")
        _score(conn, "community", "Riverside", None, "Riverside", 5, 70, "orange")
    with api.client("operator-xinhua") as client:
        venues = client.get("/api/v1/risk/venues").json()["items"]
        orange = client.get("/api/v1/risk/venues", params={"level": "orange"}).json()["items"]
        history = client.get("/api/v1/risk/venues/V-HOME").json()["items"]
        recent = client.get(
            "/api/v1/risk/venues/V-HOME",
            params={"since": (NOW - timedelta(minutes=10)).isoformat()},
        ).json()["items"]
        communities = client.get("/api/v1/risk/communities").json()["items"]
        hidden = client.get("/api/v1/risk/venues/V-OTHER")
    with api.client("viewer") as client:
        everywhere = client.get("/api/v1/risk/communities").json()["items"]
    assert [(v["subject_id"], v["score"], v["level"]) for v in venues] == [
        ("V-HOME", 81, "orange"),
        ("V-SHED", 45, "yellow"),
    ], "the latest score of each venue the caller may see"
    assert venues[0]["reasons"][0]["name"] == "smoke_rise"
    assert [v["subject_id"] for v in orange] == ["V-HOME"]
    assert [h["score"] for h in history] == [20, 81]
    assert [h["score"] for h in recent] == [81]
    assert [c["subject_id"] for c in communities] == ["Xinhua"]
    assert hidden.status_code == 404
    assert [c["subject_id"] for c in everywhere] == ["Riverside", "Xinhua"]


def test_inspection_coverage_counts_each_venue_in_its_cycle(api: Api) -> None:
    with psycopg.connect(api.db_url) as conn:
        conn.execute(
            "INSERT INTO venue_scan (ts, received_at, venue_id, seq, scan_type, inspector, items)"
            " VALUES (%s, %s, 'V-HOME', 1, 'inspection', 'INS-1', '[]'),"
            " (%s, %s, 'V-SHOP', 1, 'self_check', 'INS-1', '[]')",
            (NOW, NOW, NOW, NOW),
        )
    with api.client("inspector") as client:
        everything = client.get("/api/v1/inspections/coverage").json()
        overdue = client.get("/api/v1/inspections/coverage", params={"state": "overdue"}).json()
    with api.client("operator-xinhua") as client:
        mine = client.get("/api/v1/inspections/coverage").json()
    states = {v["venue_id"]: v["state"] for v in everything["items"]}
    assert states["V-HOME"] == "covered"
    assert states["V-SHOP"] == "overdue", "a self-check is not an inspection"
    assert everything["counts"] == {"covered": 1, "due": 0, "overdue": 4}
    assert {v["venue_id"] for v in overdue["items"]} == {"V-SHED", "V-TOWER", "V-SHOP", "V-OTHER"}
    assert "V-OTHER" not in {v["venue_id"] for v in mine["items"]}
    assert mine["counts"]["overdue"] == 3


def test_the_assessment_is_the_callers_communities_in_json_and_csv(api: Api) -> None:
    month = NOW.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m")
    with api.client("viewer") as client:
        whole = client.get("/api/v1/reports/assessment", params={"month": month}).json()
        csv = client.get("/api/v1/reports/assessment", params={"month": month, "format": "csv"})
        bad = client.get("/api/v1/reports/assessment", params={"month": "2026-13"})
    with api.client("operator-xinhua") as client:
        mine = client.get("/api/v1/reports/assessment", params={"month": month}).json()
    with api.client("station") as client:
        refused = client.get("/api/v1/reports/assessment", params={"month": month})
    assert {c["community"] for c in whole["communities"]} == {"Riverside", "Xinhua"}
    assert whole["total"]["venues"] == 5
    assert [c["community"] for c in mine["communities"]] == ["Xinhua"]
    assert mine["total"]["venues"] == 4
    assert csv.headers["content-type"].startswith("text/csv")
    assert "Xinhua" in csv.text and "Riverside" in csv.text
    assert bad.status_code == 422
    assert refused.status_code == 403
