"""Control-room notices that belong to no alert (an engine gone, and back): the contract's body
(CONTRACT.md section 3, `alert_id` and `case_id` null, no `ack_url`), shaped per channel and
frozen, one per channel and recipient. Pure: no I/O, so the watchdog sends them itself and the
engine can queue the same ones in its outbox.

SMS goes to each office phone; push and webhook to the one recipient `control-room`. The id is
derived from `key` (plus channel and recipient) as the outbox derives its own, so the same notice
always carries the same id.

>>> out = control_room_notices(["+8613800000001"], ["sms", "webhook"], key="engine/p1of1/gone/1",
...                            level="orange", title="引擎离线", text="消防预警引擎 p1of1 离线。")
>>> for n in out:
...     print(n.channel, n.recipient, n.idem_key)
sms +8613800000001 engine/p1of1/gone/1/sms/+8613800000001
webhook control-room engine/p1of1/gone/1/webhook/control-room
>>> body = json.loads(out[1].body)
>>> body["id"] == out[1].notification_id, body["to"], body["alert_id"], body["ack_url"]
(True, ['control-room'], None, None)
>>> control_room_notices([], ["sms"], key="k", level="blue", title="t", text="x")  # no phones
[]
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Final

from firewatch.alerting.channels import SHAPES
from firewatch.alerting.outbox import notification_id

CONTROL_ROOM: Final = "control-room"
CHANNEL_ORDER: Final = ("sms", "push", "webhook")


@dataclass(frozen=True, slots=True)
class Notice:
    notification_id: str
    idem_key: str
    channel: str
    recipient: str  # a phone (E.164), or CONTROL_ROOM
    to: tuple[str, ...]  # the contract's `to`
    level: str
    body: bytes  # the exact JSON posted, shaped for the channel, the same on every retry


def control_room_notices(
    contacts_phones: Sequence[str],
    channels_configured: Collection[str],
    *,
    key: str,
    level: str,
    title: str,
    text: str,
) -> list[Notice]:
    """One notice per configured channel and recipient, in the order sms, push, webhook."""
    out = []
    for channel in CHANNEL_ORDER:
        if channel not in channels_configured:
            continue
        recipients = list(contacts_phones) if channel == "sms" else [CONTROL_ROOM]
        for recipient in recipients:
            idem_key = f"{key}/{channel}/{recipient}"
            nid = notification_id(idem_key)
            body = {"id": nid, "channel": channel, "to": [recipient], "alert_id": None,
                    "case_id": None, "level": str(level), "title": title, "text": text,
                    "ack_url": None}  # fmt: skip
            frozen = json.dumps(SHAPES[channel](body), ensure_ascii=False, separators=(",", ":"))
            out.append(Notice(nid, idem_key, channel, recipient, (recipient,), str(level),
                              frozen.encode()))  # fmt: skip
    return out
