"""`firewatch demo`: the system on one machine with nothing configured.

What runs today: embedded (or configured) PostgreSQL and MQTT broker, the schema, the sample
registry, and a round trip of one device message through the broker. The engine's stages join
the demo as they land (see the issues); until then it keeps the services up for exploring.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
from contextlib import ExitStack
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

import paho.mqtt.client as mqtt
import psycopg
from paho.mqtt.enums import CallbackAPIVersion

from firewatch import services, topics
from firewatch.config import Config, mask_url
from firewatch.db.migrate import migrate

log = logging.getLogger("firewatch.demo")


def sample_registry() -> Path:
    return Path(str(resources.files("firewatch").joinpath("samples/registry.json")))


def _round_trip(broker: services.BrokerAddress) -> float:
    """Publish one smoke reading at QoS 1 and wait for it to come back; seconds it took."""
    topic = topics.reading("smoke", "DEMO-PROBE")
    arrived = threading.Event()
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="firewatch-demo-probe")
    if broker.username:
        client.username_pw_set(broker.username, broker.password)
    client.on_message = lambda _c, _u, _m: arrived.set()
    client.connect(broker.host, broker.port)
    client.loop_start()
    try:
        client.subscribe(topic, qos=1)
        started = datetime.now(UTC)
        client.publish(topic, b'{"seq":0,"ts":0,"smoke_obs":0.0,"alarm":false}', qos=1)
        if not arrived.wait(10):
            raise RuntimeError(
                f"the broker at {broker.host}:{broker.port} did not deliver a message"
            )
        return (datetime.now(UTC) - started).total_seconds()
    finally:
        client.loop_stop()
        client.disconnect()


def run_demo(config: Config, hold: bool) -> int:
    from firewatch.registry import import_registry

    with ExitStack() as stack:
        url = services.database_url(config, stack)
        broker = services.broker_address(config, stack)
        with psycopg.connect(url, autocommit=True) as conn:
            migrated = migrate(conn, datetime.now(UTC).date())
        with psycopg.connect(url) as conn:
            imported = import_registry([sample_registry()], conn)
        seconds = _round_trip(broker)
        lines = [
            "firewatch demo is up:",
            f"  database   {mask_url(url)} ({migrated.backend},"
            f" {len(migrated.applied)} migrations applied now)",
            f"  broker     mqtt://{broker.host}:{broker.port}"
            f" (QoS 1 round trip {seconds * 1000:.0f} ms)",
            f"  registry   {imported}",
            "  stages     ingest, rules, models, alerting and cases join the demo as they land",
        ]
        print("\n".join(lines), flush=True)
        if hold:
            print("Services stay up until Ctrl-C.", flush=True)
            stop = threading.Event()
            signal.signal(signal.SIGTERM, lambda *_: stop.set())
            with contextlib.suppress(KeyboardInterrupt):
                stop.wait()
            print("stopping the demo's services", flush=True)
    return 0
