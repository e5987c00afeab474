"""Embedded PostgreSQL and MQTT brokers, and the private Mosquitto of tests: real processes."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psycopg
import pytest

from firewatch.embedded import EmbeddedBroker, EmbeddedServiceError, start_broker, start_postgres
from firewatch.embedded.account import find_program
from firewatch.embedded.ports import mqtt_answers
from firewatch.kernel import topics
from tests.support.fixtures import PrivateMosquittoFactory
from tests.support.mosquitto import Acl
from tests.support.mqtt import MqttTestClient, MQTTv5, MQTTv311

HAS_MOSQUITTO = find_program("mosquitto") is not None
needs_mosquitto = pytest.mark.skipif(not HAS_MOSQUITTO, reason="mosquitto is not installed")


# ---- PostgreSQL ---------------------------------------------------------------------------------


def test_postgres_starts_and_answers(tmp_path: Path) -> None:
    with start_postgres(tmp_path / "postgres") as pg:
        assert pg.owned
        with psycopg.connect(pg.url) as conn:
            assert conn.execute("select 1").fetchone() == (1,)
    # Stopped: the socket no longer answers.
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(pg.url, connect_timeout=2)


def test_postgres_restart_keeps_data(tmp_path: Path) -> None:
    data_dir = tmp_path / "postgres"
    with start_postgres(data_dir) as pg, psycopg.connect(pg.url) as conn:
        conn.execute("create table kept (note text)")
        conn.execute("insert into kept values ('written before the restart')")
    with start_postgres(data_dir) as pg, psycopg.connect(pg.url) as conn:
        assert conn.execute("select note from kept").fetchall() == [("written before the restart",)]


def test_postgres_failure_names_the_log(tmp_path: Path) -> None:
    data_dir = tmp_path / "postgres"
    start_postgres(data_dir).stop()
    with (data_dir / "pgdata" / "postgresql.conf").open("a") as conf:
        conf.write("\nshared_buffers = 'plenty'\n")
    with pytest.raises(EmbeddedServiceError) as failure:
        start_postgres(data_dir)
    message = str(failure.value)
    assert str(data_dir / "postgres.log") in message
    assert "shared_buffers" in message  # the log's own explanation is quoted


# ---- embedded broker ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prefer_mosquitto", "kind"),
    [
        pytest.param(True, "mosquitto", marks=needs_mosquitto, id="mosquitto"),
        pytest.param(False, "amqtt", id="amqtt"),
    ],
)
def test_broker_carries_a_qos1_message(tmp_path: Path, prefer_mosquitto: bool, kind: str) -> None:
    topic = topics.reading("smoke", f"embedded-{kind}")
    payload = b'{"ts": 0, "seq": 1, "smoke_obs": 0.1, "alarm": false}'
    protocol = MQTTv5 if kind == "mosquitto" else MQTTv311  # amqtt speaks 3.1.1 only
    with start_broker(tmp_path / "broker", prefer_mosquitto=prefer_mosquitto) as broker:
        assert broker.kind == kind
        assert broker.url == f"mqtt://127.0.0.1:{broker.port}"
        with (
            MqttTestClient(broker.host, broker.port, client_id="sub", protocol=protocol) as sub,
            MqttTestClient(broker.host, broker.port, client_id="pub", protocol=protocol) as pub,
        ):
            sub.subscribe(topic, qos=1)
            assert not pub.publish(topic, payload, qos=1).is_failure
            message = sub.receive()
            assert (message.topic, message.payload, message.qos) == (topic, payload, 1)
    assert not mqtt_answers(broker.host, broker.port, timeout=1)


@needs_mosquitto
def test_broker_dies_with_a_killed_parent(tmp_path: Path) -> None:
    program = textwrap.dedent(
        f"""
        import sys, time
        from pathlib import Path
        from firewatch.embedded import start_broker
        broker = start_broker(Path({str(tmp_path / "broker")!r}))
        print(broker.port, flush=True)
        time.sleep(60)
        """
    )
    parent = subprocess.Popen([sys.executable, "-c", program], stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout is not None
        port = int(parent.stdout.readline())
        assert mqtt_answers("127.0.0.1", port)
    finally:
        parent.kill()  # SIGKILL: no clean-up code of the parent runs
        parent.wait()
    deadline = time.monotonic() + 5
    while mqtt_answers("127.0.0.1", port, timeout=0.5) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not mqtt_answers("127.0.0.1", port, timeout=0.5)


# ---- private Mosquitto with users and ACL ---------------------------------------------------

PASSWORDS = {"engine": "engine-secret", "dev1": "dev1-secret"}
ACL: Acl = {
    "engine": [("read", f"{topics.PREFIX}/#")],
    "dev1": [("write", topics.device("smoke", "dev1", "+"))],
}


def login(broker: EmbeddedBroker, user: str, password: str | None = None) -> MqttTestClient:
    password = PASSWORDS[user] if password is None else password
    return MqttTestClient(
        broker.host, broker.port, client_id=user, username=user, password=password
    )


def test_private_mosquitto_delivers_within_the_acl(
    private_mosquitto: PrivateMosquittoFactory,
) -> None:
    broker = private_mosquitto(users=PASSWORDS, acl=ACL)
    own = topics.reading("smoke", "dev1")
    with login(broker, "engine") as engine, login(broker, "dev1") as dev1:
        engine.subscribe(topics.SUBSCRIPTION)
        assert not dev1.publish(own, b'{"seq": 1}').is_failure
        message = engine.receive()
        assert (message.topic, message.payload) == (own, b'{"seq": 1}')


def test_private_mosquitto_refuses_a_wrong_password(
    private_mosquitto: PrivateMosquittoFactory,
) -> None:
    broker = private_mosquitto(users=PASSWORDS, acl=ACL)
    # Mosquitto 2.0 answers a wrong password with "Not authorized" rather than the more precise
    # "Bad user name or password"; either is a refusal.
    refusal = login(broker, "dev1", password="not-the-secret").connect()
    assert refusal.getName() in {"Bad user name or password", "Not authorized"}
    assert MqttTestClient(broker.host, broker.port, client_id="anonymous").connect().is_failure
    with login(broker, "dev1"):  # the same user with the right password gets in
        pass


def test_private_mosquitto_drops_a_publish_outside_the_acl(
    private_mosquitto: PrivateMosquittoFactory,
) -> None:
    broker = private_mosquitto(users=PASSWORDS, acl=ACL)
    with login(broker, "engine") as engine:
        engine.subscribe(topics.SUBSCRIPTION)
        with login(broker, "dev1") as dev1:
            forged = dev1.publish(topics.reading("smoke", "dev2"), b"forged")
            assert forged.getName() == "Not authorized"
        # Mosquitto 2 also closes the connection after a denied publish (eclipse-mosquitto/
        # mosquitto#2579), so the genuine message goes out on a new connection.
        with login(broker, "dev1") as dev1:
            dev1.publish(topics.reading("smoke", "dev1"), b"genuine")
        # The broker routed (here: dropped) the forged message before acknowledging it, and the
        # genuine one was sent after that acknowledgement: had the forged message been delivered,
        # it would have arrived first. So the genuine message arriving first, and alone, proves
        # the drop without waiting for a time-out.
        assert engine.receive().payload == b"genuine"
        assert engine.messages.empty()
