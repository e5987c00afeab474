"""Which share of the device space this engine instance owns (`firewatch run --partition K/N`).

The key is the venue (or its community), never the device alone: the rules keep state per
venue — several detectors of one venue corroborate each other — so a venue's devices must all
be judged by the same instance. A message that belongs to another instance is acknowledged and
left to it (each instance has its own session and gets its own copy on a plain broker; on an
EMQX cluster a hash-based shared subscription sends each instance only its share).

>>> p = Partition.parse("2/3")
>>> p.name, p.owns_key("V0001"), Partition.parse("1/1").owns_key("anything")
('p2of3', False, True)
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

import psycopg

from firewatch.ingest.errors import PartitionError
from firewatch.ingest.records import Decoded, Rejected


class PartitionKey(StrEnum):
    VENUE = "venue"
    COMMUNITY = "community"


@dataclass(frozen=True, slots=True)
class Partition:
    index: int  # 0-based
    count: int
    key: PartitionKey = PartitionKey.VENUE

    @classmethod
    def parse(cls, spec: str, key: PartitionKey = PartitionKey.VENUE) -> Partition:
        k, _, n = spec.partition("/")
        if not (k.isdigit() and n.isdigit()) or not 1 <= int(k) <= int(n):
            raise PartitionError(f"partition {spec!r}: expected K/N with 1 <= K <= N, e.g. 2/4")
        return cls(int(k) - 1, int(n), key)

    @property
    def name(self) -> str:
        """For topics and logs: `p2of4`."""
        return f"p{self.index + 1}of{self.count}"

    @property
    def everything(self) -> bool:
        return self.count == 1

    def owns_key(self, key: str) -> bool:
        # crc32, not hash(): the same venue must land in the same partition in every process.
        return self.count == 1 or zlib.crc32(key.encode()) % self.count == self.index

    def venues(self, conn: psycopg.Connection) -> list[str] | None:
        """The registry's venues this partition owns (None: every venue)."""
        if self.count == 1:
            return None
        # In a transaction of its own: a bare query would leave one open on the writer's
        # connection, and its later transactions would become savepoints inside it.
        with conn.transaction():
            rows = conn.execute("SELECT venue_id, community FROM venue").fetchall()
        key = 0 if self.key is PartitionKey.VENUE else 1
        return [str(row[0]) for row in rows if self.owns_key(str(row[key]))]

    def owns(self, outcome: Decoded | Rejected) -> bool:
        if self.count == 1:
            return True
        if isinstance(outcome, Rejected):
            return self.owns_key(outcome.topic)  # each rejection is kept by exactly one instance
        key = outcome.venue_id if self.key is PartitionKey.VENUE else outcome.community
        return self.owns_key(key)


EVERYTHING: Final = Partition(0, 1)
"""One instance owning every venue: the default."""
