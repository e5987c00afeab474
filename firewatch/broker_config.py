"""`firewatch broker config`: a Mosquitto password file and ACL from the registry.

Each device may publish only on its own topics (and a charging port may read its own `set`);
only the engine may publish commands. New credentials are generated for users that have none,
written once to a private CSV for the installers, and kept in the database as hashes only.

>>> mosquitto_hash("secret", salt=b"0123456789ab")[:25]
'$7$1000$MDEyMzQ1Njc4OWFi$'
"""

from __future__ import annotations

import base64
import csv
import hashlib
import os
import secrets
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Final

import psycopg

from firewatch.kernel import topics
from firewatch.kernel.contract import DeviceKind, MessageType

ENGINE_USER: Final = "firewatch-engine"
SCAN_BRIDGE_USER: Final = "firewatch-scan-bridge"
_ITERATIONS: Final = 1000
_DEVICE_WRITES: Final = (
    MessageType.READING,
    MessageType.EVENT,
    MessageType.STATUS,
    MessageType.AVAILABILITY,
)


def mosquitto_hash(password: str, salt: bytes | None = None, iterations: int = _ITERATIONS) -> str:
    """Mosquitto's `$7$` password-file format: PBKDF2-HMAC-SHA512."""
    salt = salt or secrets.token_bytes(12)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations)
    return f"$7${iterations}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def acl_text(devices: list[tuple[str, str]]) -> str:
    """The ACL: the engine, the scan bridge, then one block per (device_id, kind)."""
    blocks = [
        f"user {ENGINE_USER}\ntopic read {topics.SUBSCRIPTION}\n"
        f"topic write {topics.command('+', '+')}\ntopic write {topics.PREFIX}/engine/#\n",
        f"user {SCAN_BRIDGE_USER}\ntopic write {topics.scan('+')}\n",
    ]
    for device_id, kind in devices:
        lines = [f"user {device_id}"]
        lines += [f"topic write {topics.device(kind, device_id, t)}" for t in _DEVICE_WRITES]
        if kind == DeviceKind.CHARGING:
            lines.append(f"topic read {topics.command(kind, device_id)}")
        blocks.append("\n".join(lines) + "\n")
    return "\n".join(blocks)


@dataclass(frozen=True, slots=True)
class BrokerFiles:
    password_file: Path
    acl_file: Path
    users: int
    new_credentials: Path | None
    """A CSV (mode 0600) of the users created now, with their passwords; None if none."""


def _private_write(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)


def write_broker_config(conn: psycopg.Connection, out: Path, now: datetime) -> BrokerFiles:
    out.mkdir(parents=True, exist_ok=True)
    devices = [
        (device_id, kind)
        for device_id, kind in conn.execute(
            "SELECT device_id, kind FROM device WHERE retired_at IS NULL ORDER BY device_id"
        )
    ]
    users = [ENGINE_USER, SCAN_BRIDGE_USER, *(d for d, _ in devices)]
    with conn.transaction():
        known = dict(conn.execute("SELECT username, mosquitto_hash FROM broker_credential"))
        created: list[tuple[str, str]] = []
        for user in users:
            if user not in known:
                password = secrets.token_urlsafe(18)
                known[user] = mosquitto_hash(password)
                created.append((user, password))
                conn.execute(
                    "INSERT INTO broker_credential (username, mosquitto_hash, created_at)"
                    " VALUES (%s, %s, %s)",
                    (user, known[user], now),
                )
    password_file, acl_file = out / "passwords", out / "acl"
    _private_write(password_file, "".join(f"{u}:{known[u]}\n" for u in users))
    _private_write(acl_file, acl_text(devices))
    new_file = None
    if created:
        new_file = out / f"new-credentials-{now:%Y%m%dT%H%M%SZ}.csv"
        with os.fdopen(os.open(new_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as f:
            writer = csv.writer(f)
            writer.writerow(["username", "password"])
            writer.writerows(created)
    return BrokerFiles(password_file, acl_file, len(users), new_file)
