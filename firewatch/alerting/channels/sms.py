# ruff: noqa: RUF001, RUF002  # full-width punctuation: Chinese typography
"""SMS gateway: a short text with the acknowledgement link at its end (the link must survive).

>>> body = shape({"text": "火" * 400, "ack_url": "https://fw/ack?token=t"})
>>> len(body["text"]) <= TEXT_LIMIT, body["text"].endswith("确认：https://fw/ack?token=t")
(True, True)
"""

from __future__ import annotations

from typing import Any, Final

from firewatch.alerting.channels.http import HttpChannel

TEXT_LIMIT: Final = 300  # characters; gateways split longer texts into many messages


def shape(body: dict[str, Any]) -> dict[str, Any]:
    link = f" 确认：{body['ack_url']}" if body.get("ack_url") else ""
    room = TEXT_LIMIT - len(link)
    text = str(body.get("text", ""))
    if len(text) > room:
        text = text[: room - 1] + "…"
    return {**body, "text": text + link}


class SmsChannel(HttpChannel):
    name = "sms"
    shape = staticmethod(shape)
