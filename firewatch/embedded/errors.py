"""The one error class of the embedded services (STYLE.md section 5: few, with named causes)."""

from __future__ import annotations

from pathlib import Path


class EmbeddedServiceError(Exception):
    """An embedded PostgreSQL or MQTT broker could not be prepared, started or reached.

    The message names the service, what failed and, where the service wrote one, its log file,
    followed by the last lines of that log: the cause is usually there.
    """

    def __init__(self, message: str, log_path: Path | None = None, log_tail: str = "") -> None:
        self.log_path = log_path
        text = message
        if log_path is not None:
            text += f" (log: {log_path})"
        if log_tail:
            text += "\nlast lines of the log:\n" + log_tail
        super().__init__(text)
