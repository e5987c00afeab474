"""Log set-up: one line per record, and no phone number or password ever written out.

>>> redact("sms to +8613800001234 via mqtt://fw:hunter2@broker:1883")
'sms to +86*******1234 via mqtt://fw:***@broker:1883'
"""

from __future__ import annotations

import logging
import re
from typing import Final

from firewatch.registry.phones import mask_phones_in

_URL_PASSWORD: Final = re.compile(r"(?P<head>[a-z][a-z0-9+.-]*://[^:/@\s]+:)[^@\s]+@")


def redact(text: str) -> str:
    text = mask_phones_in(text)
    return _URL_PASSWORD.sub(lambda m: f"{m['head']}***@", text)


class RedactingFilter(logging.Filter):
    """Rewrites each record's final message; attached to handlers so no logger can bypass it."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


def configure(level: str = "INFO") -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(
        logging.Formatter(
            "%(asctime)s %(levelname)-7s %(name)s: %(message)s", "%Y-%m-%dT%H:%M:%S%z"
        )
    )
    handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
