"""Loopback ports for tests; the engine's own helpers, so that there is one implementation."""

from firewatch.embedded.ports import free_port, wait_for_mqtt, wait_for_port

__all__ = ["free_port", "wait_for_mqtt", "wait_for_port"]
