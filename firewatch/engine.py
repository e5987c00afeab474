"""`firewatch run`: the engine's stages wired together, until SIGTERM or Ctrl-C.

Today that is ingest (subscription, validation, durable batched writes, liveness) with the
HTTP API's health and metrics and the readings-partition upkeep; the detection, alerting and
case stages plug in as `ingest.stream.Consumer`s as they land.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from contextlib import ExitStack
from datetime import timedelta

import psycopg

from firewatch import services
from firewatch.api.app import create_app
from firewatch.api.deps import open_pool
from firewatch.api.server import ApiServer
from firewatch.config import Config
from firewatch.dashboards.upkeep import keep_rollups
from firewatch.db.partitions import ensure_reading_partitions
from firewatch.errors import ConfigError, SchemaMissingError
from firewatch.heartbeat import Heartbeat
from firewatch.ingest import positions
from firewatch.ingest.decode import DecodeLimits
from firewatch.ingest.errors import PartitionError
from firewatch.ingest.partition import Partition, PartitionKey
from firewatch.ingest.pipeline import IngestPipeline, IngestSettings
from firewatch.ingest.stream import Consumer
from firewatch.ingest.subscribe import Subscriber
from firewatch.kernel import topics
from firewatch.kernel.broker import BrokerAddress
from firewatch.kernel.clock import Clock
from firewatch.stages import start_stages

log = logging.getLogger("firewatch.engine")

_UPKEEP_EVERY_S = 3600.0
_KEEP_POSITIONS = timedelta(days=8)  # the warm-up's longest look-back (7 days) and a day


def _backend(url: str) -> str:
    with psycopg.connect(url) as conn:
        try:
            row = conn.execute(
                "SELECT value FROM schema_meta WHERE key = 'store_backend'"
            ).fetchone()
        except psycopg.errors.UndefinedTable:
            row = None
    if row is None:
        raise SchemaMissingError("the database has no firewatch schema: run `firewatch db migrate`")
    return str(row[0])


def _keep_partitions(url: str, clock: Clock, days_ahead: int, stop: threading.Event) -> None:
    """Create tomorrow's partitions long before tomorrow, so the hot path never waits on DDL;
    forget hand-off positions every stage has long passed."""
    while not stop.is_set():
        try:
            with psycopg.connect(url, autocommit=True) as conn:
                today = clock.now().date()
                ensure_reading_partitions(
                    conn, today - timedelta(days=1), today + timedelta(days=days_ahead + 1)
                )
                positions.prune(conn, clock.now() - _KEEP_POSITIONS)
        except psycopg.Error as exc:
            log.warning("readings partition upkeep failed, will retry: %s", exc)
        stop.wait(_UPKEEP_EVERY_S)


def run_engine(
    config: Config,
    clock: Clock,
    stop: threading.Event,
    *,
    consumers: Sequence[Consumer] = (),
    ready: threading.Event | None = None,
    resolved: tuple[str, BrokerAddress] | None = None,
) -> None:
    """`resolved`: a database URL and broker already chosen by the caller (the demo)."""
    with ExitStack() as stack:
        if resolved is None:
            url = services.database_url(config, stack)
            broker = services.broker_address(config, stack)
        else:
            url, broker = resolved
        backend = _backend(url)
        settings = IngestSettings(
            batch_size=config.ingest.batch_size,
            batch_max_age_s=config.ingest.batch_max_age_ms / 1000,
            limits=DecodeLimits(config.ingest.max_future_s, config.ingest.max_age_s),
        )
        try:
            partition = Partition.parse(
                config.engine.partition, PartitionKey(config.engine.partition_key)
            )
        except PartitionError as exc:
            raise ConfigError(f"engine.partition: {exc}") from None
        # Each partition is its own MQTT session, so that each gets (and acknowledges) its own copy.
        client_id = config.mqtt.client_id + ("" if partition.everything else f"-{partition.name}")
        subscriber = stack.enter_context(
            Subscriber(
                broker,
                client_id,
                clock,
                session_expiry_s=config.mqtt.session_expiry_s,
                capacity=config.ingest.queue_size,
                announce=topics.engine_availability(partition.name),
            )
        )
        stages = start_stages(
            config, url, clock, stack, stop,
            broker=broker, client_id=client_id, partition=partition.name,
        )  # fmt: skip
        pipeline = IngestPipeline(
            subscriber,
            lambda: psycopg.connect(url),
            clock,
            settings,
            [*stages.consumers, *consumers],
            partition,
        )
        ingest_thread = threading.Thread(target=pipeline.run, args=(stop,), name="ingest")

        def health() -> dict[str, str]:
            return {
                "ingest": "ok" if ingest_thread.is_alive() else "the ingest loop has stopped",
                "broker": "ok"
                if subscriber.connected
                else f"not connected to {subscriber.endpoint}",
                **{name: check() for name, check in stages.health.items()},
            }

        pool = stack.enter_context(
            open_pool(url, config.database.pool_size, config.api.query_timeout_s)
        )
        admin = config.api.admin_token.get_secret_value() if config.api.admin_token else None
        stack.enter_context(
            ApiServer(
                create_app(health, pool, admin, config, stages.alert_settings, clock=clock),
                config.api.bind,
            )
        )
        if backend == "postgresql":
            threading.Thread(
                target=_keep_partitions,
                args=(url, clock, config.database.partition_days_ahead, stop),
                name="partitions",
                daemon=True,
            ).start()
        threading.Thread(
            target=keep_rollups,
            args=(url, clock, config.general.timezone, stop),
            name="rollups",
            daemon=True,
        ).start()
        evaluation = stages.evaluator.thread if stages.evaluator is not None else None
        stack.enter_context(
            Heartbeat(
                broker, client_id, partition.name, config.engine.heartbeat_s, clock,
                # A stopped loop stops the beat: the watchdog then reports a hung engine.
                alive=lambda: ingest_thread.is_alive()
                and (evaluation is None or evaluation.is_alive()),
            )
        )  # fmt: skip
        ingest_thread.start()
        log.info(
            "engine running (store backend %s, partition %s by %s); stop with Ctrl-C or SIGTERM",
            backend, partition.name, partition.key,
        )  # fmt: skip
        if ready is not None:
            ready.set()
        ingest_thread.join()
        log.info("ingest drained; %d batches committed", pipeline.committed_batches)
