"""Log set-up: one line per record — readable text, or JSON for a log collector — and no
phone number or password ever written out, in the message or in a traceback.

>>> redact("sms to +8613800001234 via mqtt://fw:hunter2@broker:1883")
'sms to +86*******1234 via mqtt://fw:***@broker:1883'
"""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime
from typing import Any, Final

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


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, thread, message and, if any, the error.

    >>> record = logging.LogRecord("firewatch.ingest", logging.WARNING, "", 0, "lag %d s",
    ...                            (3,), None)
    >>> line = json.loads(JsonFormatter().format(record))
    >>> line["level"], line["logger"], line["message"]
    ('WARNING', 'firewatch.ingest', 'lag 3 s')
    """

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "thread": record.threadName,
            "message": record.getMessage(),
        }
        if record.exc_info:
            line["error"] = redact(self.formatException(record.exc_info))
        return json.dumps(line, ensure_ascii=False)


class RedactingTextFormatter(logging.Formatter):
    def formatException(self, ei: Any) -> str:  # noqa: N802 - logging's name
        return redact(super().formatException(ei))


def configure(level: str = "INFO", style: str = "text") -> None:
    handler = logging.StreamHandler()
    if style == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(
            RedactingTextFormatter(
                "%(asctime)s %(levelname)-7s %(name)s: %(message)s", "%Y-%m-%dT%H:%M:%S%z"
            )
        )
    handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
