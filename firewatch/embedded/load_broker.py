"""A private Mosquitto for load runs, benchmarks and tests: the engine's own broker configuration
(`ingest/broker/mosquitto.conf`: no queue limit, a large in-flight window) on a free loopback
port, in a temporary directory removed afterwards, so that a run measures the broker as the
engine ships it and never depends on the limits of a shared one.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from firewatch.embedded.broker import start_mosquitto
from firewatch.embedded.errors import EmbeddedServiceError
from firewatch.simulators.errors import LoadBrokerError


@dataclass(frozen=True, slots=True)
class PrivateBroker:
    host: str
    port: int
    log_path: Path


@contextmanager
def private_mosquitto() -> Iterator[PrivateBroker]:
    """Start Mosquitto on a free loopback port for the duration of the `with` block."""
    with tempfile.TemporaryDirectory(prefix="fw-load-broker-") as tmp:
        try:
            broker = start_mosquitto(Path(tmp) / "mosquitto")
        except EmbeddedServiceError as exc:
            raise LoadBrokerError(f"private mosquitto for load: {exc}") from None
        with broker:
            yield PrivateBroker(broker.host, broker.port, broker.log_path)
