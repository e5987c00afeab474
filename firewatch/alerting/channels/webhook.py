"""Webhook toward the city operations platform (一网统管): the whole notice, unshortened,
with `to` naming everyone the notice went to."""

from __future__ import annotations

from typing import Any

from firewatch.alerting.channels.http import HttpChannel


def shape(body: dict[str, Any]) -> dict[str, Any]:
    return body


class WebhookChannel(HttpChannel):
    name = "webhook"
    shape = staticmethod(shape)
