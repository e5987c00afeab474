"""Broker configuration files (data only): `mosquitto.conf`, read by `firewatch.embedded`."""
