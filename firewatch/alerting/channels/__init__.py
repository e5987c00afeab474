"""Channels: adapters that only send one notification and classify a failure.

Retry, backoff, rate limits and idempotency are not theirs: they live in `alerting.deliver`,
which owns the outbox. Each channel shapes its body once, when the notification is queued (an
SMS is short), and posts it as JSON (CONTRACT.md section 3).
"""

from collections.abc import Callable
from typing import Any, Final

from firewatch.alerting.channels import push, sms, webhook
from firewatch.alerting.channels.http import RETRYABLE, Channel, Failure, Sent, classify_status
from firewatch.alerting.channels.push import PushChannel
from firewatch.alerting.channels.sms import SmsChannel
from firewatch.alerting.channels.webhook import WebhookChannel

SHAPES: Final[dict[str, Callable[[dict[str, Any]], dict[str, Any]]]] = {
    "sms": sms.shape,
    "push": push.shape,
    "webhook": webhook.shape,
}
CHANNELS: Final = {"sms": SmsChannel, "push": PushChannel, "webhook": WebhookChannel}

__all__ = [
    "CHANNELS",
    "RETRYABLE",
    "SHAPES",
    "Channel",
    "Failure",
    "PushChannel",
    "Sent",
    "SmsChannel",
    "WebhookChannel",
    "classify_status",
]
