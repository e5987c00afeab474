"""Embedded services: a PostgreSQL and an MQTT broker on this machine, for `firewatch demo` and
for any run with FIREWATCH_DATABASE_URL or FIREWATCH_MQTT_URL unset (see README.md here)."""

from firewatch.embedded.broker import (
    BrokerKind,
    EmbeddedBroker,
    start_amqtt,
    start_broker,
    start_mosquitto,
)
from firewatch.embedded.errors import EmbeddedServiceError
from firewatch.embedded.mosquitto_config import render_mosquitto_config
from firewatch.embedded.postgres import EmbeddedPostgres, start_postgres

__all__ = [
    "BrokerKind",
    "EmbeddedBroker",
    "EmbeddedPostgres",
    "EmbeddedServiceError",
    "render_mosquitto_config",
    "start_amqtt",
    "start_broker",
    "start_mosquitto",
    "start_postgres",
]
