"""`firewatch broker config` on a real private Mosquitto: a device publishes only as itself, and
only the engine publishes commands."""

from __future__ import annotations

import contextlib
import csv
import queue
from datetime import UTC, datetime
from pathlib import Path

import psycopg

from firewatch.broker_config import ENGINE_USER, write_broker_config
from firewatch.embedded.broker import start_mosquitto
from firewatch.kernel import topics
from tests.ingest.seed import seed_registry
from tests.support.mqtt import MqttTestClient

READING = b'{"ts":0,"seq":1,"smoke_obs":0.1,"alarm":false}'


def _try_publish(port: int, user: str, password: str, topic: str) -> None:
    """Publish once; a refusal may be a PUBACK with an error or a dropped connection."""
    try:
        with MqttTestClient("127.0.0.1", port, client_id=f"t-{user}", username=user,
                            password=password) as client:  # fmt: skip
            client.publish(topic, READING)
    except (TimeoutError, ConnectionRefusedError):
        pass


def test_devices_publish_only_as_themselves_and_never_commands(
    fresh_db: str, tmp_path: Path
) -> None:
    seed_registry(fresh_db)
    with psycopg.connect(fresh_db) as conn:
        # Written where the broker keeps its data: running as root, Mosquitto runs as a
        # service account that is handed that folder.
        files = write_broker_config(conn, tmp_path / "mosq", datetime.now(UTC))
        again = write_broker_config(conn, tmp_path / "broker2", datetime.now(UTC))
    assert files.new_credentials is not None and again.new_credentials is None, (
        "a second run keeps the credentials it made"
    )
    assert (files.password_file.stat().st_mode & 0o777) == 0o600
    with files.new_credentials.open() as handle:
        passwords = {row["username"]: row["password"] for row in csv.DictReader(handle)}
    assert passwords["SMK-1"] not in files.password_file.read_text(), "only hashes on disk"

    broker = start_mosquitto(tmp_path / "mosq", password_file=files.password_file,
                             acl_file=files.acl_file)  # fmt: skip
    with broker, MqttTestClient("127.0.0.1", broker.port, client_id="engine", username=ENGINE_USER,
                                password=passwords[ENGINE_USER]) as engine:  # fmt: skip
        engine.subscribe(topics.SUBSCRIPTION)
        own = topics.reading("smoke", "SMK-1")
        _try_publish(broker.port, "SMK-1", passwords["SMK-1"], own)
        # as another device, a command to itself, and with a wrong password
        _try_publish(broker.port, "SMK-1", passwords["SMK-1"], topics.reading("smoke", "SMK-2"))
        _try_publish(broker.port, "CHG-1", passwords["CHG-1"], topics.command("charging", "CHG-1"))
        _try_publish(broker.port, "SMK-2", "wrong-password", topics.reading("smoke", "SMK-2"))
        received = [engine.receive().topic]
        with contextlib.suppress(queue.Empty):
            received.append(engine.receive(timeout=1.5).topic)
        assert received == [own]

        # The engine may command a charging port, which hears it on its own topic.
        with MqttTestClient("127.0.0.1", broker.port, client_id="chg", username="CHG-1",
                            password=passwords["CHG-1"]) as port:  # fmt: skip
            port.subscribe(topics.command("charging", "CHG-1"))
            engine.publish(
                topics.command("charging", "CHG-1"), b'{"port":1,"power":"off","id":"c1"}'
            )
            assert port.receive().payload == b'{"port":1,"power":"off","id":"c1"}'
