"""Prometheus metrics of the rules stage; the outcome or rule is the label."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

EVALUATED = Counter("firewatch_rules_records_total", "Records evaluated by the rules")
EVIDENCE = Counter(
    "firewatch_rules_evidence_total", "Evidence records emitted", ["rule", "category"]
)
BATCH_SECONDS = Histogram(
    "firewatch_rules_batch_seconds",
    "Time to evaluate one batch",
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1),
)
RELOADS = Counter("firewatch_rules_reloads_total", "Rule library reloads", ["outcome"])
RULES = Gauge("firewatch_rules_in_force", "Rules in force")
SINK_FAILURES = Counter("firewatch_rules_sink_failures_total", "Evidence sinks that raised")
STORED = Counter("firewatch_rules_evidence_stored_total", "Evidence records written")
