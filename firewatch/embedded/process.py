"""Start a server under `_supervise.py`, stop it, and read the end of its log."""

from __future__ import annotations

import contextlib
import signal
import subprocess
import sys
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from firewatch.embedded.account import ServiceAccount
from firewatch.embedded.errors import EmbeddedServiceError

_SUPERVISOR: Final = Path(__file__).with_name("_supervise.py")
_ROTATE_BYTES: Final = 10 * 1024 * 1024
_SUPERVISOR_SLACK_S: Final = 5.0
RUN_MARKER: Final = "==== firewatch "


@dataclass(slots=True)
class ServiceProcess:
    """A running server: its supervisor process, which holds the server's lifetime."""

    name: str
    log_path: Path
    grace_s: float
    popen: subprocess.Popen[bytes]

    @property
    def pid(self) -> int:
        """The supervisor's pid (the server is its only child)."""
        return self.popen.pid

    def running(self) -> bool:
        return self.popen.poll() is None

    def stop(self) -> None:
        """Stop the server and wait for it; idempotent."""
        if self.popen.stdin is not None and not self.popen.stdin.closed:
            # End-of-file on its stdin is the supervisor's signal to stop the server cleanly.
            with contextlib.suppress(OSError):
                self.popen.stdin.close()
        try:
            self.popen.wait(self.grace_s + _SUPERVISOR_SLACK_S)
        except subprocess.TimeoutExpired:
            # The supervisor hangs; killing it sends the server its death signal (Linux).
            self.popen.kill()
            self.popen.wait()


def log_tail(path: Path, lines: int = 15) -> str:
    """The last lines the latest run wrote to a log file, for error messages; "" if none."""
    try:
        with path.open(encoding="utf-8", errors="replace") as handle:
            tail = list(deque(handle, maxlen=lines))
    except OSError:
        return ""
    # Lines of earlier runs would only mislead: keep those after our latest start marker.
    starts = [i for i, line in enumerate(tail) if line.startswith(RUN_MARKER)]
    return "".join(tail[starts[-1] :] if starts else tail).rstrip()


@contextlib.contextmanager
def os_errors_as(what: str, log_path: Path) -> Iterator[None]:
    """Report an OSError (a directory we may not create, a program we cannot run) as an
    EmbeddedServiceError saying `what` failed, with the log if there is one yet."""
    try:
        yield
    except OSError as exc:
        log = log_path if log_path.exists() else None
        raise EmbeddedServiceError(f"{what}: {exc}", log, log_tail(log_path)) from exc


def _rotate(log_path: Path) -> None:
    # One previous log is kept; the logs of a long-lived demo must not grow without bound.
    if log_path.exists() and log_path.stat().st_size > _ROTATE_BYTES:
        log_path.replace(log_path.with_name(log_path.name + ".1"))


def spawn(
    name: str,
    command: list[str],
    *,
    log_path: Path,
    cwd: Path,
    account: ServiceAccount | None,
    stop_signal: signal.Signals = signal.SIGTERM,
    grace_s: float = 10.0,
) -> ServiceProcess:
    """Start `command` under a supervisor, its output appended to `log_path`."""
    _rotate(log_path)
    supervisor = [
        sys.executable,
        str(_SUPERVISOR),
        "--name",
        name,
        "--stop-signal",
        stop_signal.name,
        "--grace",
        str(grace_s),
    ]
    if account is not None:
        supervisor += ["--user", account.name]
    with log_path.open("ab") as log:
        log.write(f"{RUN_MARKER}starts {name}: {' '.join(command)}\n".encode())
        log.flush()
        popen = subprocess.Popen(  # noqa: S603 - fixed programs, arguments built by this package
            [*supervisor, "--", *command],
            stdin=subprocess.PIPE,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=cwd,
            # A session of its own: Ctrl-C in a terminal reaches only us, so the engine can drain
            # what is in flight while the database and the broker are still up; we stop them last.
            start_new_session=True,
        )
    return ServiceProcess(name=name, log_path=log_path, grace_s=grace_s, popen=popen)
