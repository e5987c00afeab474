"""Test support: private brokers, loopback ports, MQTT test clients and their pytest fixtures."""
