"""Which PostgreSQL and MQTT broker to use: the configured ones, else embedded ones.

Configured services are never replaced: if a configured one is unreachable, that is an error
for the operator, not a reason to quietly start something else.
"""

from __future__ import annotations

import logging
from contextlib import ExitStack
from dataclasses import replace
from pathlib import Path

import platformdirs

from firewatch.config import Config, mask_url
from firewatch.kernel.broker import BrokerAddress

log = logging.getLogger("firewatch.services")


def data_dir(config: Config) -> Path:
    path = config.general.data_dir or Path(platformdirs.user_data_dir("firewatch"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def database_url(config: Config, stack: ExitStack) -> str:
    """The configured PostgreSQL URL, or an embedded server's, kept running by `stack`."""
    if config.database.url is not None:
        url = config.database.url.get_secret_value()
        log.info("database: configured PostgreSQL at %s", mask_url(url))
        return url
    from firewatch.embedded.postgres import start_postgres

    where = data_dir(config) / "postgres"
    log.info("database: FIREWATCH_DATABASE_URL is unset, starting embedded PostgreSQL in %s", where)
    server = stack.enter_context(start_postgres(where))
    return server.url


def broker_address(config: Config, stack: ExitStack) -> BrokerAddress:
    """The configured broker, or an embedded one (mosquitto if installed), kept by `stack`."""
    if config.mqtt.url is not None:
        url = config.mqtt.url.get_secret_value()
        log.info("broker: configured MQTT broker at %s", mask_url(url))
        return BrokerAddress.from_url(url)
    from firewatch.embedded.broker import start_broker

    where = data_dir(config) / "broker"
    log.info("broker: FIREWATCH_MQTT_URL is unset, starting an embedded broker in %s", where)
    broker = stack.enter_context(start_broker(where))
    address = BrokerAddress.from_url(broker.url)
    return replace(address, mqtt5=broker.kind != "amqtt")
