"""The alerting stage's exceptions; each message names the broker, topic or command that failed.

    AlertingError              base of every alerting error
     └── CommandPublishError   a device command could not be handed to the MQTT broker

A notification that a channel could not deliver is not an error: delivery records the failure
reason in the outbox and retries there.
"""

from __future__ import annotations


class AlertingError(Exception):
    """Base of the alerting stage's errors."""


class CommandPublishError(AlertingError):
    """A command could not be handed to the MQTT broker; the message names the broker and the
    topic."""
