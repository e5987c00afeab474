"""A one-line progress display for long replays: messages sent, simulated time, time left.

On a terminal the line is redrawn in place; in a log (not a terminal) a line is written now and
then. The real time comes from a passed-in monotonic function (the composition root's clock).

>>> import io
>>> out, ticks = io.StringIO(), iter([0.0, 0.5, 20.0])
>>> show = ProgressLine(out, lambda: next(ticks), every_s=10.0)
>>> from datetime import UTC, datetime
>>> show(5, 10, datetime(2026, 5, 1, 2, 0, tzinfo=UTC))
>>> show(10, 10, datetime(2026, 5, 1, 3, 0, tzinfo=UTC))
>>> out.getvalue()
'[100%] 10/10 messages, simulated 2026-05-01T03:00:00+00:00, 0:00:00 left\\n'
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TextIO


class ProgressLine:
    def __init__(
        self, stream: TextIO, monotonic: Callable[[], float], *, every_s: float = 1.0
    ) -> None:
        self._stream = stream
        self._monotonic = monotonic
        self._tty = stream.isatty()
        self._every = every_s if self._tty else max(every_s, 10.0)
        self._began = monotonic()
        self._shown = self._began

    def __call__(self, sent: int, total: int, sim_now: datetime) -> None:
        now = self._monotonic()
        if sent < total and now - self._shown < self._every:
            return
        self._shown = now
        elapsed = now - self._began
        left = timedelta(seconds=round(elapsed * (total - sent) / sent)) if sent else "?"
        line = (
            f"[{100 * sent // max(total, 1):3d}%] {sent}/{total} messages, "
            f"simulated {sim_now.isoformat()}, {left} left"
        )
        if self._tty:
            self._stream.write("\r" + line + ("\n" if sent >= total else ""))
        else:
            self._stream.write(line + "\n")
        self._stream.flush()
