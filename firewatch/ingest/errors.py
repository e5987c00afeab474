"""The ingest stage's exceptions; each message names what failed.

    IngestError                  base of every ingest error
     ├── PartitionError          a `--partition` spec that is not K/N (also a ValueError)
     └── BrokerConnectionError   the MQTT broker cannot be reached or refused the session

A message that cannot be decoded is not an error: `decode` returns a `Rejected` value.
"""

from __future__ import annotations


class IngestError(Exception):
    """Base of the ingest stage's errors."""


class PartitionError(IngestError, ValueError):
    """A partition spec that is not `K/N` with 1 <= K <= N; the message quotes the spec."""


class BrokerConnectionError(IngestError):
    """The MQTT broker cannot be reached, closed the connection or refused the session; the
    message names the broker."""
