"""Shared pieces of the benchmarks: a scratch database, a private broker, CPU and memory probes."""

from __future__ import annotations

import json
import os
import queue
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from array import array
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
from prometheus_client import REGISTRY
from psycopg import sql

from firewatch.db.migrate import migrate
from firewatch.embedded.ports import free_port
from firewatch.ingest.stream import Batch

LOCAL_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"
_TICKS = os.sysconf("SC_CLK_TCK")


def say(text: str) -> None:
    """Progress, on stderr: stdout's last line is the JSON figures."""
    print(text, file=sys.stderr, flush=True)


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


# The engine as a child process (bench/soak.py, bench/partitions.py) --------------------------
#
# `firewatch run` itself (config from FIREWATCH_* variables, `run_engine` with every stage), with
# one more consumer at the end of the stream: a probe that counts what was stored, samples the
# lag from device time to commit and, when asked, which devices this instance stored. The parent
# asks for a sample by writing a line to the child's stdin and reads one JSON line back, so the
# probe costs nothing the engine does not already do between samples.

_CHILD = "from bench._support import engine_child_main; engine_child_main()"
LAG_EVERY = 10
"""One record in this many has its lag sampled (the percentiles need thousands, not millions)."""


def _percentile(values: array[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(len(ordered) * q))], 1)


class EngineProbe:
    """A stream consumer: stored records, lag from device time to commit, stored per device."""

    def __init__(self, per_device: bool) -> None:
        self.stored = 0
        self.per_device: Counter[str] | None = Counter() if per_device else None
        self.offline: list[str] = []
        """Devices this instance's liveness sweep reported gone offline."""
        self._lags: array[float] = array("d")
        self._lock = threading.Lock()

    def consume(self, batch: Batch) -> None:
        committed = batch.committed_at.timestamp()
        lags = [
            (committed - ts.timestamp()) * 1000
            for r in batch.records[::LAG_EVERY]
            if (ts := getattr(r, "ts", None)) is not None
        ]
        with self._lock:
            self.stored += len(batch.records)
            self._lags.extend(lags)
        if self.per_device is not None:
            self.per_device.update(getattr(r, "device_id", "") for r in batch.records)
            self.offline.extend(gone.device_id for gone in batch.offline)

    def sample(self, reset: bool = True) -> dict[str, Any]:
        """Counters now, and the lag percentiles since the previous sample that reset them."""
        with self._lock:
            lags = self._lags if reset else array("d", self._lags)
            if reset:
                self._lags = array("d")
            stored = self.stored
        received = REGISTRY.get_sample_value("firewatch_ingest_received_total") or 0.0
        duplicates = sum(
            s.value
            for m in REGISTRY.collect()
            if m.name == "firewatch_ingest_duplicates"
            for s in m.samples
            if s.name.endswith("_total")
        )
        cpu = os.times()
        return {
            "t": time.time(),
            "rss_mb": round(rss_mb(), 1),
            "cpu_s": round(cpu.user + cpu.system, 2),
            "stored": stored,
            "received": int(received),
            "duplicates": int(duplicates),
            "lag_samples": len(lags),
            "p50_lag_ms": _percentile(lags, 0.5),
            "p99_lag_ms": _percentile(lags, 0.99),
            "max_lag_ms": round(max(lags), 1) if lags else None,
        }


def engine_child_main() -> None:
    """The child: `run_engine` with the probe; samples on request, a last one after draining."""
    from firewatch import config as config_module
    from firewatch import logs
    from firewatch.engine import run_engine
    from firewatch.kernel.clock import SystemClock

    config = config_module.load(None)
    logs.configure(config.general.log_level)
    probe = EngineProbe(per_device=os.environ.get("FW_BENCH_PER_DEVICE") == "1")
    stop, ready = threading.Event(), threading.Event()
    emit_lock = threading.Lock()

    def emit(line: dict[str, Any]) -> None:
        with emit_lock:
            sys.stdout.write(json.dumps(line) + "\n")
            sys.stdout.flush()

    def serve() -> None:
        ready.wait()
        emit({"ready": True, "pid": os.getpid()})
        for request in sys.stdin:
            sample = probe.sample(reset=request.strip() != "peek")
            if request.strip() == "devices" and probe.per_device is not None:
                sample["devices"] = dict(probe.per_device)
                sample["offline"] = list(probe.offline)
            emit(sample)

    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    threading.Thread(target=serve, name="bench-probe", daemon=True).start()
    run_engine(config, SystemClock(), stop, consumers=[probe], ready=ready)
    final = {"final": True, **probe.sample()}
    if probe.per_device is not None:
        final["devices"] = dict(probe.per_device)
        final["offline"] = list(probe.offline)
    emit(final)


class EngineChild:
    """`firewatch run` (with the probe) in a child process on a scratch database and broker."""

    def __init__(
        self,
        database_url: str,
        broker_port: int,
        workdir: Path,
        name: str,
        *,
        partition: str | None = None,
        partition_key: str = "venue",
        per_device: bool = False,
    ) -> None:
        self.name = name
        self.workdir = workdir
        self.log_path = workdir / f"engine-{name}.log"
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("FIREWATCH_")},
            "FIREWATCH_DATABASE_URL": database_url,
            "FIREWATCH_MQTT_URL": f"mqtt://127.0.0.1:{broker_port}",
            "FIREWATCH_API_BIND": f"127.0.0.1:{free_port()}",
            "FIREWATCH_MQTT__CLIENT_ID": f"fw-bench-{name}",
            "FIREWATCH_ENGINE__PARTITION": partition or "1/1",
            "FIREWATCH_ENGINE__PARTITION_KEY": partition_key,
            "FW_BENCH_PER_DEVICE": "1" if per_device else "0",
            "PYTHONPATH": str(Path(__file__).resolve().parent.parent),
        }
        self.process: subprocess.Popen[str] | None = None
        self._lines: queue.Queue[dict[str, Any] | None] = queue.Queue()

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self, timeout_s: float = 60.0) -> None:
        """Start (or restart: the same MQTT session) and wait until it has subscribed."""
        self._lines = queue.Queue()  # a killed predecessor's end-of-output is not ours
        with self.log_path.open("a") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-c", _CHILD],
                env=self.env,
                cwd=self.workdir,  # no ./firewatch.toml: the configuration is the variables above
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
            )
        threading.Thread(target=self._read, name=f"read-{self.name}", daemon=True).start()
        self._next(timeout_s)

    def _read(self) -> None:
        assert self.process is not None
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._lines.put(json.loads(line))
        self._lines.put(None)

    def _next(self, timeout_s: float) -> dict[str, Any]:
        try:
            line = self._lines.get(timeout=timeout_s)
        except queue.Empty:
            line = None
        if line is None:
            raise RuntimeError(f"engine {self.name} did not answer: {self.log_tail()}")
        return line

    def sample(self, request: str = "sample") -> dict[str, Any]:
        """`sample`: counters and lags since the last sample; `peek`: the same without starting
        a new lag window; `devices`: a sample with the records stored per device."""
        assert self.process is not None
        assert self.process.stdin is not None
        self.process.stdin.write(request + "\n")
        self.process.stdin.flush()
        return self._next(30.0)

    def stop(self, timeout_s: float = 120.0) -> dict[str, Any]:
        """SIGTERM: the engine drains what it holds; its last sample."""
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        final = self._next(timeout_s)
        self.process.wait(30)
        return final

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()
        self.process.wait(10)

    def close(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)

    def log_tail(self, lines: int = 20) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


def load_average() -> float:
    """The 1-minute load average: the machine is shared, and this says how busy it was."""
    return round(os.getloadavg()[0], 2)
