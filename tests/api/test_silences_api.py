"""Silences through the API: made within the caller's communities, bounded, cancelled, and
holding the notifications of what they cover."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg

from firewatch.kernel.contract import Level
from tests.api.conftest import Api, raise_alerts


def _in(hours: float) -> str:
    return (datetime.now(UTC) + timedelta(hours=hours)).isoformat()


def test_a_drill_silence_holds_the_calls_and_is_listed_until_cancelled(api: Api) -> None:
    drill = {"scope": "venue", "subject_id": "V-HOME", "ends_at": _in(2), "reason": "fire drill"}
    with api.client("operator-xinhua") as client:
        made = client.post("/api/v1/silences", json=drill)
    assert made.status_code == 201, made.text
    silence = made.json()
    assert (silence["created_by"], silence["reason"]) == ("op-xinhua", "fire drill")

    (alert_id,) = raise_alerts(api.db_url, ("SMK-1", "V-HOME", Level.RED))
    with psycopg.connect(api.db_url) as conn:
        muted, calls = conn.execute(
            "SELECT a.muted, (SELECT count(*) FROM notification n WHERE n.alert_id = a.alert_id)"
            " FROM alert a WHERE alert_id = %s",
            (alert_id,),
        ).fetchone() or (None, None)
    assert muted == "silenced_venue" and calls == 0, "recorded, nobody called"

    with api.client("operator-xinhua") as client:
        listed = [s["silence_id"] for s in client.get("/api/v1/silences").json()["items"]]
        cancelled = client.post(f"/api/v1/silences/{silence['silence_id']}/cancel")
        again = client.post(f"/api/v1/silences/{silence['silence_id']}/cancel")
        running = client.get("/api/v1/silences").json()["items"]
        everything = client.get("/api/v1/silences", params={"include_ended": True}).json()
    assert listed == [silence["silence_id"]]
    assert cancelled.json()["cancelled_by"] == "op-xinhua"
    assert again.status_code == 409
    assert running == []
    assert [s["silence_id"] for s in everything["items"]] == [silence["silence_id"]]


def test_silences_are_refused_outside_the_scope_too_long_or_ended(api: Api) -> None:
    with api.client("operator-xinhua") as client:
        theirs = client.post(
            "/api/v1/silences",
            json={"scope": "device", "subject_id": "SMK-OTHER", "ends_at": _in(1),
                  "reason": "maintenance"},
        )  # fmt: skip
        unknown = client.post(
            "/api/v1/silences",
            json={"scope": "community", "subject_id": "Nowhere", "ends_at": _in(1),
                  "reason": "maintenance"},
        )  # fmt: skip
        forever = client.post(
            "/api/v1/silences",
            json={"scope": "community", "subject_id": "Xinhua", "ends_at": _in(24 * 30),
                  "reason": "maintenance"},
        )  # fmt: skip
        past = client.post(
            "/api/v1/silences",
            json={"scope": "venue", "subject_id": "V-HOME", "ends_at": _in(-1), "reason": "x"},
        )
    with api.client("operator") as client:
        other_community = client.post(
            "/api/v1/silences",
            json={"scope": "device", "subject_id": "SMK-OTHER", "ends_at": _in(1),
                  "reason": "maintenance"},
        )  # fmt: skip
    with api.client("operator-xinhua") as client:
        invisible = client.get("/api/v1/silences").json()["items"]
    assert theirs.status_code == unknown.status_code == 404
    assert forever.status_code == 422 and forever.json()["error"]["code"] == "too_long"
    assert past.status_code == 422
    assert other_community.status_code == 201
    assert invisible == [], "another community's silence is not shown"
