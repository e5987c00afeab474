"""`firewatch run` as a real child process, for tests that kill it, and its memory use."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.support.ports import free_port


class EngineProcess:
    def __init__(self, database_url: str, mqtt_url: str, client_id: str, log_dir: Path) -> None:
        self.api_port = free_port()
        self._log_dir = log_dir
        self._starts = 0
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("FIREWATCH_")},
            "FIREWATCH_DATABASE_URL": database_url,
            "FIREWATCH_MQTT_URL": mqtt_url,
            "FIREWATCH_API_BIND": f"127.0.0.1:{self.api_port}",
            "FIREWATCH_MQTT__CLIENT_ID": client_id,
            "FIREWATCH_INGEST__BATCH_MAX_AGE_MS": "50",
        }
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30.0) -> None:
        self._starts += 1
        log = (self._log_dir / f"engine-{self._starts}.log").open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "firewatch.cli", "run"],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=self._log_dir,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"engine exited at start-up: {self.log_tail()}")
            try:
                if (
                    httpx.get(f"http://127.0.0.1:{self.api_port}/healthz", timeout=1).status_code
                    == 200
                ):
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"engine not healthy in {timeout} s: {self.log_tail()}")

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def terminate(self) -> int:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(30)

    def rss_mb(self) -> float:
        assert self.process is not None
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        raise AssertionError("no VmRSS for the engine process")

    def log_tail(self, lines: int = 30) -> str:
        path = self._log_dir / f"engine-{self._starts}.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
