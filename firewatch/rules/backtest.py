"""Back-test: stored history replayed through the same engine, hits counted per rule per day.

An officer changing a rule sees what the change would have done before it goes live. The
replay starts `warmup` before the range so that windows (seven days of lift rides) are full
when the range begins; hits before the range are not counted.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import psycopg

from firewatch.rules.directory import Directory
from firewatch.rules.engine import RuleEngine
from firewatch.rules.evidence import Evidence
from firewatch.rules.loader import Library
from firewatch.rules.replay import ReplayLiveness, batches, stored_records

MAX_WARMUP = timedelta(days=7)


def warmup_for(library: Library) -> timedelta:
    """The longest window or hold of the library's rules, at most seven days."""
    longest = max((max(r.params.window_s, r.params.held_s) for r in library.rules), default=0.0)
    return min(MAX_WARMUP, timedelta(seconds=longest))


@dataclass(frozen=True, slots=True)
class BacktestReport:
    start: datetime
    end: datetime
    zone: str
    versions: dict[str, int]
    records: int
    evidence: tuple[Evidence, ...]
    hits: dict[tuple[str, date], int] = field(default_factory=dict)

    def days(self) -> list[date]:
        return sorted({day for _, day in self.hits})

    def to_json(self) -> dict[str, Any]:
        return {
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "zone": self.zone,
            "records": self.records,
            "rules": [
                {
                    "rule": rule,
                    "version": version,
                    "days": {d.isoformat(): self.hits.get((rule, d), 0) for d in self.days()},
                    "total": sum(n for (r, _), n in self.hits.items() if r == rule),
                }
                for rule, version in sorted(self.versions.items())
            ],
        }

    def table(self) -> str:
        days = self.days()
        head = ["rule", "version", *(d.isoformat() for d in days), "total"]
        rows = [head]
        for rule, version in sorted(self.versions.items()):
            counts = [self.hits.get((rule, d), 0) for d in days]
            rows.append([rule, str(version), *map(str, counts), str(sum(counts))])
        widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
        lines = ["  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in
                           enumerate(zip(row, widths, strict=True))) for row in rows]  # fmt: skip
        span = f"{self.start.isoformat()} .. {self.end.isoformat()} ({self.zone})"
        return f"back-test {span}: {self.records} records replayed\n" + "\n".join(lines)


def run_backtest(
    conn: psycopg.Connection,
    library: Library,
    start: datetime,
    end: datetime,
    zone: ZoneInfo,
    *,
    warmup: timedelta | None = None,
    batch_size: int = 2000,
) -> BacktestReport:
    """Replay [start - warmup, end) through a fresh engine; count the hits in [start, end)."""
    directory = Directory.load(conn)
    conn.commit()
    engine = RuleEngine(library, zone=zone, directory=directory)
    lead = warmup if warmup is not None else warmup_for(library)
    liveness = ReplayLiveness(directory.heartbeats)
    found: list[Evidence] = []
    records = 0
    for batch in batches(stored_records(conn, start - lead, end), liveness, batch_size):
        records += len(batch.records)
        found.extend(e for e in engine.evaluate(batch) if start <= e.at < end)
    conn.commit()
    hits = Counter((e.rule_id, e.at.astimezone(zone).date()) for e in found)
    versions = {r.id: r.version for r in library.rules}
    return BacktestReport(start, end, zone.key, versions, records, tuple(found), dict(hits))
