"""Ingest: MQTT messages in, validated and enriched records out (see README.md)."""
