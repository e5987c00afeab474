# ruff: noqa: RUF001  # full-width punctuation: the Chinese texts under test
"""The acknowledgement link of a real notification: signed, expiring, one-time, recorded with
who and when; and what the notification says (CONTRACT.md section 3, texts in Chinese)."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

from firewatch.alerting import Answer, TokenCheck, redeem
from firewatch.kernel.contract import Level
from tests.alerting.support import STATION_PHONES, Harness

CONTRACT_KEYS = ["id", "channel", "to", "alert_id", "case_id", "level", "title", "text", "ack_url"]


def _body(n: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(n["body"])
    return body


def _token(n: dict[str, Any]) -> str:
    token: str = parse_qs(urlsplit(_body(n)["ack_url"]).query)["token"][0]
    return token


def test_a_notification_is_the_contract_body_in_chinese(h: Harness) -> None:
    h.fire("SMK-1", Level.RED, sensed=("smoke", "heat"))
    a = h.alert("V-HOME")
    sms = h.notices(a["alert_id"], purpose="confirmed", channel="sms",
                    recipient=STATION_PHONES[0])[0]  # fmt: skip
    body = _body(sms)
    assert list(body) == CONTRACT_KEYS
    assert (body["id"], body["channel"], body["to"]) == (sms["notification_id"], "sms",
                                                         [STATION_PHONES[0]])  # fmt: skip
    assert (body["alert_id"], body["case_id"], body["level"]) == (a["alert_id"], None, "red")
    assert body["title"] == "【火警·红色】V-HOME 场所"
    # what, where (address, floor, room), when (Shanghai time), what to do, and the link
    assert "确认火警" in body["text"] and "烟雾、温度骤升" in body["text"]
    assert "长乐路 1 号，二楼卧室" in body["text"] and "5月5日 02:00" in body["text"]
    assert "请立即出动处置" in body["text"] and body["text"].endswith(body["ack_url"])
    assert body["ack_url"].startswith("https://fw.example/api/v1/ack?token=")
    hook = h.notices(a["alert_id"], purpose="confirmed", channel="webhook")[0]
    assert set(_body(hook)["to"]) == {*STATION_PHONES, "+8613900000001"}
    for n in h.notices(a["alert_id"]):  # every recipient's body is its own, in the same words
        body = _body(n)
        assert (body["id"], body["channel"]) == (n["notification_id"], n["channel"])
        assert body["text"].startswith("5月5日 02:00，V-HOME 场所（长乐路 1 号，二楼卧室）确认火警")


def test_a_link_acknowledges_once_and_records_who_and_when(h: Harness) -> None:
    h.fire("SMK-1", Level.RED)
    a = h.alert("V-HOME")
    env = h.stage.env()
    first, second = (n for n in h.notices(a["alert_id"], purpose="confirmed", channel="sms")
                     if n["recipient"] in STATION_PHONES)  # fmt: skip
    h.advance(20)
    assert redeem(h.db, _token(first), h.now, env) == Answer.ACKNOWLEDGED
    assert redeem(h.db, _token(first), h.now, env) == Answer.TOKEN_USED  # one time only
    # another member's link still works, and says the alert is taken care of
    assert redeem(h.db, _token(second), h.now, env) == Answer.ALREADY_ACKNOWLEDGED
    a = h.alert("V-HOME")
    assert (a["state"], a["acked_by"], a["acked_at"]) == ("acknowledged", first["recipient"], h.now)
    used = h.db.execute("SELECT used_by, outcome FROM ack_token_used ORDER BY used_at, used_by")
    assert sorted(used.fetchall()) == sorted([(first["recipient"], "acknowledged"),
                                              (second["recipient"], "already_acknowledged")])  # fmt: skip


def test_links_expire_and_forgeries_fail(h: Harness) -> None:
    h.fire("SMK-1", Level.RED)
    a = h.alert("V-HOME")
    token = _token(h.notices(a["alert_id"], purpose="confirmed", channel="push")[0])
    env = h.stage.env()
    assert redeem(h.db, token[:-3] + "abc", h.now, env) == TokenCheck.BAD_SIGNATURE
    h.move_to(h.now + timedelta(hours=2))
    assert redeem(h.db, token, h.now, env) == TokenCheck.EXPIRED
    assert h.alert("V-HOME")["state"] == "confirmed"  # neither acknowledged it


def test_a_contacts_link_on_a_pre_alarm_starts_the_investigation(h: Harness) -> None:
    h.fire("SMK-6")  # a small hotel: positive alarm sequence
    a = h.alert("V-HOTEL")
    link = h.notices(a["alert_id"], purpose="pending", channel="sms")[0]
    h.advance(5)
    assert redeem(h.db, _token(link), h.now, h.stage.env()) == Answer.INVESTIGATING
    a = h.alert("V-HOTEL")
    assert (a["state"], a["contact_acked_by"]) == ("pending", "+8613900000004")
    h.advance(60)
    assert h.alert("V-HOTEL")["state"] == "pending"  # inside the 180 s window
