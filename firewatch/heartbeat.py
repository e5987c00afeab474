"""The engine's heartbeat: a small JSON message every `engine.heartbeat_s` on
`fw/v1/engine/{partition}/heartbeat`, so that `firewatch watchdog` can tell a hung engine (still
`online`, silent) from a working one.

Its own MQTT connection (`{client_id}-heartbeat`, paho-mqtt, clean session, QoS 0, not retained:
a stale heartbeat is worth nothing). It never raises into the engine: a lost broker is logged
and reconnected to in the background, beats are skipped meanwhile. With `alive` it beats only
while that check passes (the engine passes its ingest loop's), so a stopped loop goes silent.

>>> from datetime import UTC, datetime
>>> beat_payload("p1of2", datetime(2026, 5, 1, 6, 3, 5, tzinfo=UTC), 4242)
b'{"partition":"p1of2","ts":"2026-05-01T06:03:05+00:00","pid":4242}'
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Callable
from datetime import datetime
from types import TracebackType

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from firewatch.kernel import topics
from firewatch.kernel.broker import BrokerAddress
from firewatch.kernel.clock import Clock

log = logging.getLogger("firewatch.heartbeat")

_KEEPALIVE_S = 30


def beat_payload(partition: str, now: datetime, pid: int) -> bytes:
    body = {"partition": partition, "ts": now.isoformat(), "pid": pid}
    return json.dumps(body, separators=(",", ":")).encode()


class Heartbeat:
    """`with Heartbeat(broker, client_id, partition, every_s, clock):` beats until it ends."""

    def __init__(
        self,
        broker: BrokerAddress,
        client_id: str,
        partition: str,
        every_s: float,
        clock: Clock,
        *,
        alive: Callable[[], bool] = lambda: True,
    ) -> None:
        self._broker = broker
        self._partition = partition
        self._every = every_s
        self._clock = clock
        self._alive = alive
        self._topic = topics.engine_heartbeat(partition)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._connected = False  # as last logged, to log changes only
        self._was_alive = self._ever_alive = False
        self._client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"{client_id}-heartbeat",
            protocol=mqtt.MQTTv5 if broker.mqtt5 else mqtt.MQTTv311,
        )
        if broker.username is not None:
            self._client.username_pw_set(broker.username, broker.password)
        if broker.tls:
            self._client.tls_set()
        self._client.reconnect_delay_set(1, 30)

    @property
    def endpoint(self) -> str:
        return f"{self._broker.host}:{self._broker.port}"

    def __enter__(self) -> Heartbeat:
        # connect_async + loop_start: paho connects and reconnects in its own thread, and a
        # broker that is down now is retried instead of failing the engine's start.
        self._client.connect_async(self._broker.host, self._broker.port, _KEEPALIVE_S)
        self._client.loop_start()
        self._thread = threading.Thread(target=self._run, name="heartbeat", daemon=True)
        self._thread.start()
        log.info("heartbeat every %g s on %s at %s", self._every, self._topic, self.endpoint)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(self._every + 5)
        try:
            self._client.disconnect()
            self._client.loop_stop()
        except Exception:  # a heartbeat never fails the engine, not even its stop
            log.warning("heartbeat: closing the connection to %s failed", self.endpoint,
                        exc_info=True)  # fmt: skip

    def _run(self) -> None:
        while not self._stop.is_set():
            beat = False
            try:
                beat = self._beat()
            except Exception:  # logged and retried at the next beat: never raised into the engine
                log.warning("heartbeat on %s failed; retrying", self._topic, exc_info=True)
            # No beat (not connected, not alive yet): look again soon, so the first beat
            # follows at once.
            self._stop.wait(self._every if beat else min(self._every, 1.0))

    def _beat(self) -> bool:
        """Publish one beat if connected and alive; whether it did."""
        connected = self._client.is_connected()
        if connected != self._connected:
            self._connected = connected
            if connected:
                log.info("heartbeat: connected to the MQTT broker at %s", self.endpoint)
            else:
                log.warning("heartbeat: not connected to the MQTT broker at %s; reconnecting",
                            self.endpoint)  # fmt: skip
        if not connected:
            return False
        alive = self._alive()
        if alive != self._was_alive and self._ever_alive:  # the start is no news
            if alive:
                log.info("heartbeat on %s resumed", self._topic)
            else:
                log.warning("heartbeat on %s paused: the engine's check failed", self._topic)
        self._was_alive = alive
        self._ever_alive = self._ever_alive or alive
        if not alive:
            return False
        payload = beat_payload(self._partition, self._clock.now(), os.getpid())
        self._client.publish(self._topic, payload, qos=0, retain=False)
        return True
