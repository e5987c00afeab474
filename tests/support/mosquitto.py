"""A private Mosquitto for one test or benchmark, optionally with users and an ACL.

It runs with the engine's configuration (`ingest/broker/mosquitto.conf`) on a free loopback
port, through the same code as the embedded broker, and stops when the `with` block ends.
Users and ACL are given as data:

>>> print(render_acl({"dev1": [("write", "fw/v1/smoke/dev1/+")], "engine": [("read", "fw/v1/#")]}))
user dev1
topic write fw/v1/smoke/dev1/+
<BLANKLINE>
user engine
topic read fw/v1/#
<BLANKLINE>
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Literal

from firewatch.embedded.account import find_program
from firewatch.embedded.broker import EmbeddedBroker, start_mosquitto

PrivateMosquitto = EmbeddedBroker
"""A running private Mosquitto: `.host`, `.port`, `.url`, `.stop()`, and a context manager."""

AclAccess = Literal["readwrite", "read", "write"]
AclRule = tuple[AclAccess, str]
Users = Mapping[str, str]
Acl = Mapping[str, Sequence[AclRule]]

_NAME_FORBIDDEN = (":", " ", "\n", "\r")


def mosquitto_installed() -> bool:
    return find_program("mosquitto") is not None and find_program("mosquitto_passwd") is not None


def _check_line(value: str, what: str, forbidden: Iterable[str] = ("\n", "\r")) -> str:
    # One entry per line in both files: a stray separator would silently make another entry.
    if not value or any(char in value for char in forbidden):
        raise ValueError(f"{what} {value!r} is empty or contains one of {list(forbidden)!r}")
    return value


def write_password_file(path: Path, users: Users) -> None:
    """A Mosquitto password file with these users (hashed by `mosquitto_passwd -U`)."""
    program = find_program("mosquitto_passwd")
    if program is None:
        raise RuntimeError("mosquitto_passwd is not installed (package mosquitto)")
    lines = [
        _check_line(name, "user name", _NAME_FORBIDDEN) + ":" + _check_line(password, "password")
        for name, password in users.items()
    ]
    # Plain text only for the moment before -U hashes it in place; private from the start.
    path.touch(mode=0o600)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    subprocess.run([program, "-U", str(path)], check=True, capture_output=True)


def render_acl(acl: Acl) -> str:
    """Mosquitto ACL file text: for each user, the topic patterns it may read and/or write."""
    blocks = []
    for name, rules in acl.items():
        lines = ["user " + _check_line(name, "user name", _NAME_FORBIDDEN)]
        for access, pattern in rules:
            if access not in ("readwrite", "read", "write"):
                raise ValueError(f"ACL access must be readwrite, read or write, not {access!r}")
            lines.append(f"topic {access} {_check_line(pattern, 'topic pattern')}")
        blocks.append("\n".join(lines) + "\n")
    return "\n".join(blocks)


def start_private_mosquitto(
    data_dir: Path, *, users: Users | None = None, acl: Acl | None = None
) -> PrivateMosquitto:
    """Start Mosquitto in `data_dir`; use it as a context manager (or call `stop()`).

    With `users`, anonymous clients are refused; with `acl` as well, each user is limited to
    its topic patterns (a user without ACL entries may do nothing).
    """
    if acl is not None and not users:
        raise ValueError("an ACL needs users: its entries are per user")
    data_dir.mkdir(parents=True, exist_ok=True)
    password_file = acl_file = None
    if users:
        password_file = data_dir / "passwords"
        write_password_file(password_file, users)
    if acl is not None:
        acl_file = data_dir / "acl"
        acl_file.write_text(render_acl(acl), encoding="utf-8")
    return start_mosquitto(data_dir, password_file=password_file, acl_file=acl_file)
