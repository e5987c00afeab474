"""Prometheus metrics of the alerting stage; the decision's reason or the failure is the label."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

SIGNALS = Counter(
    "firewatch_alerting_signals_total", "Signals taken, by grouping decision", ["grouped"]
)
TRANSITIONS = Counter(
    "firewatch_alerting_transitions_total", "Alert state changes, by reason", ["to_state", "reason"]
)
MUTED = Counter("firewatch_alerting_muted_total", "Signals held by silence or inhibition", ["why"])
ESCALATIONS = Counter("firewatch_alerting_escalations_total", "Escalation steps", ["reason"])
DELIVERIES = Counter(
    "firewatch_alerting_deliveries_total",
    "Notification attempts, by outcome",
    ["channel", "outcome"],
)
COMMANDS = Counter("firewatch_alerting_commands_total", "Device commands, by outcome", ["outcome"])
QUEUE = Gauge("firewatch_alerting_queue_depth", "Inputs taken, not yet processed")
