"""Alerts through the API: the contract's list, one alert with its history, and what stations
and the control room do to them, each as the alerting stage records it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg

from tests.alerting.support import STATION_PHONES
from tests.api.conftest import Alerts, Api

CONTRACT_FIELDS = {"alert_id", "venue_id", "device_ids", "kind", "level", "state", "opened_at",
                   "confirmed_at", "acked_at"}  # fmt: skip


def test_the_list_has_the_contract_fields_within_the_callers_communities(
    api: Api, alerts: Alerts
) -> None:
    since = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
    with api.client("operator") as client:
        everything = client.get("/api/v1/alerts", params={"since": since}).json()["items"]
        red = client.get("/api/v1/alerts", params={"level": "red"}).json()["items"]
        later = client.get(
            "/api/v1/alerts", params={"since": (datetime.now(UTC) + timedelta(hours=1)).isoformat()}
        ).json()["items"]
    with api.client("operator-xinhua") as client:
        mine = client.get("/api/v1/alerts", params={"since": since}).json()["items"]
        hidden = client.get(f"/api/v1/alerts/{alerts.other}")
    by_id = {a["alert_id"]: a for a in everything}
    assert set(by_id) == {alerts.confirmed, alerts.pending, alerts.other}
    assert set(by_id[alerts.confirmed]) >= CONTRACT_FIELDS
    fire = by_id[alerts.confirmed]
    assert (fire["venue_id"], fire["device_ids"], fire["kind"], fire["level"], fire["state"]) == (
        "V-HOME",
        ["SMK-1"],
        "fire",
        "red",
        "confirmed",
    )
    assert fire["confirmed_at"] is not None and fire["acked_at"] is None
    assert by_id[alerts.pending]["state"] == "pending"
    assert {a["alert_id"] for a in red} == {alerts.confirmed, alerts.other}
    assert later == []
    assert {a["alert_id"] for a in mine} == {alerts.confirmed, alerts.pending}
    assert hidden.status_code == 404


def test_one_alert_comes_with_devices_history_and_masked_recipients(
    api: Api, alerts: Alerts
) -> None:
    with api.client("viewer") as client:
        body = client.get(f"/api/v1/alerts/{alerts.confirmed}").json()
    assert [d["device_id"] for d in body["devices"]] == ["SMK-1"]
    assert [(h["to_state"], h["reason"]) for h in body["history"]][:2] == [
        ("pending", "opened_pending"),
        ("confirmed", "red_evidence"),
    ]
    station_sms = [n for n in body["notifications"] if n["channel"] == "sms"]
    assert station_sms, "the station was called"
    shown = " ".join(n["recipient"] for n in body["notifications"])
    assert not any(phone in shown for phone in STATION_PHONES), "numbers are masked"


def test_a_station_acknowledges_arrives_and_resolves(api: Api, alerts: Alerts) -> None:
    path = f"/api/v1/alerts/{alerts.confirmed}"
    with api.client("viewer") as client:
        refused = client.post(f"{path}/acknowledge")
    with api.client("station-xinhua") as client:
        first = client.post(f"{path}/acknowledge")
        again = client.post(f"{path}/acknowledge")
        arrived = client.post(f"{path}/arrival")
        resolved = client.post(f"{path}/resolve", json={"false_alarm": False})
        too_late = client.post(f"{path}/resolve", json={})
        history = client.get(path).json()["history"]
    assert refused.status_code == 403
    assert first.json()["outcome"] == "acknowledged"
    assert first.json()["alert"]["state"] == "acknowledged"
    assert first.json()["alert"]["acked_at"] is not None
    assert (again.status_code, again.json()["outcome"]) == (200, "already_acknowledged")
    assert arrived.json()["outcome"] == "arrived"
    assert resolved.json()["alert"]["state"] == "resolved"
    assert too_late.status_code == 409 and too_late.json()["error"]["code"] == "alert_resolved"
    reasons = [(h["reason"], h["actor"]) for h in history]
    assert ("acknowledged", "st-xinhua") in reasons
    assert ("station_arrived", "st-xinhua") in reasons
    assert ("resolved", "st-xinhua") in reasons
    with psycopg.connect(api.db_url) as conn:
        stand_down = conn.execute(
            "SELECT count(*) FROM notification WHERE alert_id = %s AND purpose = 'stand_down'",
            (alerts.confirmed,),
        ).fetchone()
    assert stand_down is not None and stand_down[0] > 0, "those called are told to stand down"


def test_the_control_room_confirms_or_dismisses_a_pending_alert(api: Api, alerts: Alerts) -> None:
    with api.client("station") as client:
        refused = client.post(f"/api/v1/alerts/{alerts.pending}/confirm")
    with api.client("operator") as client:
        confirmed = client.post(f"/api/v1/alerts/{alerts.pending}/confirm")
        not_pending = client.post(f"/api/v1/alerts/{alerts.pending}/dismiss")
        missing = client.post("/api/v1/alerts/AL-NOPE/confirm")
    assert refused.status_code == 403
    assert confirmed.json()["alert"]["state"] == "confirmed"
    assert not_pending.status_code == 409 and not_pending.json()["error"]["code"] == "not_pending"
    assert missing.status_code == 404


def test_a_pending_alert_dismissed_as_false_is_resolved(api: Api, alerts: Alerts) -> None:
    with api.client("operator-xinhua") as client:
        dismissed = client.post(f"/api/v1/alerts/{alerts.pending}/dismiss")
        other = client.post(f"/api/v1/alerts/{alerts.other}/dismiss")
    assert dismissed.json()["outcome"] == "dismissed"
    assert dismissed.json()["alert"]["resolution"] == "dismissed_as_false"
    assert other.status_code == 404, "another community's alert cannot be touched"
