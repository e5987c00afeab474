"""Prometheus metrics of the ingest stage; the failure or rejection reason is the label."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

RECEIVED = Counter("firewatch_ingest_received_total", "Messages taken from the broker")
STORED = Counter("firewatch_ingest_stored_total", "Records newly stored", ["table"])
DUPLICATES = Counter(
    "firewatch_ingest_duplicates_total", "Broker redeliveries of records already stored", ["table"]
)
REJECTED = Counter("firewatch_ingest_rejected_total", "Messages stored as rejected", ["reason"])
WRITE_FAILURES = Counter(
    "firewatch_ingest_write_failures_total", "Batch writes that failed and were retried", ["error"]
)
BATCH_SIZE = Histogram(
    "firewatch_ingest_batch_messages",
    "Messages per committed batch",
    buckets=(1, 10, 50, 100, 250, 500, 1000, 2000, 5000, 10000),
)
COMMIT_SECONDS = Histogram(
    "firewatch_ingest_commit_seconds",
    "Time to write and commit one batch",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
QUEUE_DEPTH = Gauge("firewatch_ingest_queue_depth", "Messages received, not yet committed")
LAG_SECONDS = Histogram(
    "firewatch_ingest_lag_seconds",
    "From device time to commit, per record",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
)
OFFLINE = Counter("firewatch_ingest_devices_offline_total", "Devices found silent", ["reason"])
