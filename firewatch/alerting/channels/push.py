"""Push to the station members' app: a title that fits a lock screen, the text, the link.

>>> len(shape({"title": "标" * 50, "text": "t"})["title"])
32
"""

from __future__ import annotations

from typing import Any, Final

from firewatch.alerting.channels.http import HttpChannel

TITLE_LIMIT: Final = 32
TEXT_LIMIT: Final = 500


def shape(body: dict[str, Any]) -> dict[str, Any]:
    title, text = str(body.get("title", "")), str(body.get("text", ""))
    return {**body, "title": title[:TITLE_LIMIT], "text": text[:TEXT_LIMIT]}


class PushChannel(HttpChannel):
    name = "push"
    shape = staticmethod(shape)
