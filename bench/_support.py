"""Shared pieces of the benchmarks: a scratch database, a private broker, CPU and memory probes."""

from __future__ import annotations

import os
import secrets
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

from firewatch.db.migrate import migrate

LOCAL_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"
_TICKS = os.sysconf("SC_CLK_TCK")


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


@contextmanager
def postgres_server(tmp: Path) -> Iterator[str]:
    """The local PostgreSQL if it answers, else an embedded one: an admin URL."""
    if _reachable("127.0.0.1", 5432):
        yield LOCAL_POSTGRES
        return
    from firewatch.embedded import start_postgres

    with start_postgres(tmp / "postgres") as server:
        yield server.url


@contextmanager
def scratch_database(server_url: str, label: str) -> Iterator[str]:
    """A migrated database that exists for the `with` block."""
    name = f"fw_bench_{label}_{secrets.token_hex(3)}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = urlunsplit(urlsplit(server_url)._replace(path=f"/{name}"))
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            migrate(conn, datetime.now(UTC).date())
        yield url
    finally:
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def rss_mb(pid: int | None = None) -> float:
    status = Path(f"/proc/{pid or os.getpid()}/status").read_text()
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _cpu_s(stat_path: Path) -> float:
    fields = stat_path.read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS  # utime + stime


def thread_cpu_s() -> dict[str, float]:
    """CPU seconds used so far by each named thread of this process."""
    names = {t.native_id: t.name for t in threading.enumerate()}
    usage: dict[str, float] = {}
    for task in Path("/proc/self/task").iterdir():
        name = names.get(int(task.name), "other")
        usage[name] = usage.get(name, 0.0) + _cpu_s(task / "stat")
    return usage


def process_cpu_s(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        try:
            total += _cpu_s(Path(f"/proc/{pid}/stat"))
        except OSError:
            continue
    return total


def pids_named(name: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == name:
                    found.append(int(entry.name))
            except OSError:
                continue
    return found
