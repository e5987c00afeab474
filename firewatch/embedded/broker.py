"""An embedded MQTT broker, for when no broker is configured (CONTRACT.md section 5).

Mosquitto when it is installed: the broker of development and CI, configured from
`ingest/broker/mosquitto.conf`, with its persistence under `data_dir`. Otherwise amqtt, a pure
Python broker that is always installed with firewatch: it speaks MQTT 3.1.1 only and keeps
sessions and queued messages in memory. Both run as a separate process under our supervisor (a
broker in our own event loop would compete with the engine's hot path for the GIL, and could
not be stopped as cleanly), listen on a free loopback port, and stop when we stop or die.
"""

from __future__ import annotations

import json
import logging
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Final, Literal

from firewatch.embedded.account import (
    ServiceAccount,
    find_program,
    hand_over,
    make_reachable,
    service_account,
)
from firewatch.embedded.errors import EmbeddedServiceError
from firewatch.embedded.mosquitto_config import render_mosquitto_config
from firewatch.embedded.ports import LOOPBACK, free_port, wait_for_mqtt
from firewatch.embedded.process import ServiceProcess, log_tail, os_errors_as, spawn

logger = logging.getLogger("firewatch.embedded")

BrokerKind = Literal["mosquitto", "amqtt"]
_START_TIMEOUT_S: Final = 15.0
_PORT_ATTEMPTS: Final = 3  # a port picked as free can be taken before the broker binds it


class EmbeddedBroker:
    """A running MQTT broker on loopback; a context manager, or call `stop()` when done."""

    __slots__ = ("_process", "data_dir", "host", "kind", "log_path", "port")

    def __init__(
        self, kind: BrokerKind, port: int, data_dir: Path, process: ServiceProcess
    ) -> None:
        self.kind: BrokerKind = kind
        self.host = LOOPBACK
        self.port = port
        self.data_dir = data_dir
        self.log_path = process.log_path
        self._process = process

    @property
    def url(self) -> str:
        """mqtt://127.0.0.1:PORT, the form FIREWATCH_MQTT_URL takes."""
        return f"mqtt://{self.host}:{self.port}"

    def running(self) -> bool:
        return self._process.running()

    def stop(self) -> None:
        """Stop the broker (Mosquitto saves its persistence file first); idempotent."""
        if self._process.running():
            self._process.stop()
            logger.info("embedded MQTT broker (%s) on port %d stopped", self.kind, self.port)

    def __enter__(self) -> EmbeddedBroker:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"EmbeddedBroker(kind={self.kind!r}, url={self.url!r}, data_dir={self.data_dir!r})"


def start_broker(data_dir: Path, *, prefer_mosquitto: bool = True) -> EmbeddedBroker:
    """Mosquitto if installed (and preferred), else amqtt; data and logs under `data_dir`."""
    mosquitto = find_program("mosquitto") if prefer_mosquitto else None
    if mosquitto is not None:
        return start_mosquitto(data_dir, executable=mosquitto)
    reason = "mosquitto is not installed" if prefer_mosquitto else "amqtt was asked for"
    return start_amqtt(data_dir, reason=reason)


def start_mosquitto(
    data_dir: Path,
    *,
    port: int | None = None,
    password_file: Path | None = None,
    acl_file: Path | None = None,
    executable: str | None = None,
) -> EmbeddedBroker:
    """Mosquitto with the engine's configuration, persistence in `data_dir`.

    With a password file anonymous clients are refused; the ACL file then limits each user.
    Running as root, Mosquitto runs as the service account, which is handed `data_dir` and
    everything in it: keep the password and ACL files there.
    """
    program = executable or find_program("mosquitto")
    if program is None:
        raise EmbeddedServiceError("embedded MQTT broker: mosquitto is not installed")
    data_dir = data_dir.expanduser().resolve()
    account = service_account()
    config_path = data_dir / "mosquitto.conf"

    def start_once(chosen: int) -> ServiceProcess:
        data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        config_path.write_text(
            render_mosquitto_config(chosen, data_dir, password_file, acl_file), encoding="utf-8"
        )
        for extra in (password_file, acl_file):
            if extra is not None:
                make_reachable(account, extra)
        # The password file must not be readable by others; hand_over makes all of it 0700-private.
        hand_over(account, data_dir)
        return spawn(
            "mosquitto",
            [program, "-c", str(config_path)],
            log_path=data_dir / "mosquitto.log",
            cwd=data_dir,
            account=account,
        )

    broker = _start("mosquitto", data_dir, port, start_once)
    logger.info(
        "embedded MQTT broker: mosquitto (%s) on %s, running as %s; persistence in %s; log %s",
        program,
        broker.url,
        _who(account),
        data_dir / "mosquitto.db",
        broker.log_path,
    )
    return broker


def start_amqtt(data_dir: Path, *, port: int | None = None, reason: str = "") -> EmbeddedBroker:
    """amqtt in a child Python process, anonymous clients allowed (loopback only)."""
    data_dir = data_dir.expanduser().resolve()
    config_path = data_dir / "amqtt.yaml"

    def start_once(chosen: int) -> ServiceProcess:
        data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        # YAML is a superset of JSON: no YAML writer needed. No $SYS plugin, no packet logging.
        config = {
            "listeners": {"default": {"type": "tcp", "bind": f"{LOOPBACK}:{chosen}"}},
            "plugins": {
                "amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}
            },
        }
        config_path.write_text(json.dumps(config, indent=2), encoding="utf-8")
        # amqtt runs as the current user even as root: it is our own interpreter and packages,
        # which the service account may not be able to reach (a venv under /root).
        return spawn(
            "amqtt",
            [sys.executable, "-m", "amqtt.scripts.broker_script", "-c", str(config_path)],
            log_path=data_dir / "amqtt.log",
            cwd=data_dir,
            account=None,
            # SIGTERM ends it at once. Its only clean stop is a KeyboardInterrupt raised wherever
            # it happens to be, which logs tracebacks; it has nothing on disk to save anyway.
            stop_signal=signal.SIGTERM,
        )

    broker = _start("amqtt", data_dir, port, start_once)
    logger.info(
        "embedded MQTT broker: amqtt on %s%s; MQTT 3.1.1 only, sessions and queued messages in "
        "memory (lost when it stops); config and log in %s",
        broker.url,
        f" ({reason})" if reason else "",
        data_dir,
    )
    return broker


def _start(
    kind: BrokerKind,
    data_dir: Path,
    port: int | None,
    start_once: Callable[[int], ServiceProcess],
) -> EmbeddedBroker:
    attempts = 1 if port is not None else _PORT_ATTEMPTS
    for attempt in range(1, attempts + 1):
        chosen = port if port is not None else free_port()
        with os_errors_as(
            f"embedded MQTT broker ({kind}): could not start it in {data_dir}",
            data_dir / f"{kind}.log",
        ):
            process = start_once(chosen)
        answered = wait_for_mqtt(LOOPBACK, chosen, _START_TIMEOUT_S, alive=process.running)
        exited = not process.running()
        if answered and not exited:
            return EmbeddedBroker(kind, chosen, data_dir, process)
        process.stop()
        # Exiting at once is what losing the port looks like: worth another port. Not answering
        # for the whole time-out is not.
        if attempt == attempts or not exited:
            raise EmbeddedServiceError(
                f"embedded MQTT broker ({kind}) on port {chosen} "
                + (
                    "exited during start-up"
                    if exited
                    else f"did not answer in {_START_TIMEOUT_S:g} s"
                )
                + (f" (attempt {attempt} of {attempts})" if attempts > 1 else ""),
                process.log_path,
                log_tail(process.log_path),
            )
        logger.info("embedded MQTT broker (%s) exited on port %d, trying another", kind, chosen)
    raise AssertionError("unreachable")


def _who(account: ServiceAccount | None) -> str:
    return account.name if account else "the current user"
