"""Positions: the durable hand-off from the store to the stages.

Every committed batch gets the next value of one sequence, written in the same transaction as
its rows (`ingest_batch`, and each row's `pos` column). A stage that records the last position
it fully processed (its watermark) can, after any crash, find exactly what it has not yet
evaluated.

>>> back = offline_from_json(offline_json([WentOffline("D-1", "smoke", "V-1",
...     datetime(2026, 5, 1, tzinfo=UTC), OfflineReason.SILENT)]))
>>> back[0].device_id, back[0].reason, back[0].since.isoformat()
('D-1', <OfflineReason.SILENT: 'silent'>, '2026-05-01T00:00:00+00:00')
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Final

import psycopg

from firewatch.ingest.liveness import OfflineReason, WentOffline

_RECORD: Final = """
WITH p AS (SELECT nextval('ingest_position') AS pos)
INSERT INTO ingest_batch (pos, partition, committed_at, records, offline)
SELECT pos, %s, %s, %s, %s FROM p
RETURNING pos
"""


def record_batch(
    conn: psycopg.Connection,
    partition: str,
    committed_at: datetime,
    records: int,
    offline: Sequence[WentOffline] = (),
) -> int:
    """Take the next position for the batch being written in the caller's transaction (its
    rows carry it in their `pos` column)."""
    row = conn.execute(
        _RECORD, (partition, committed_at, records, offline_json(offline) if offline else None)
    ).fetchone()
    assert row is not None
    return int(row[0])


def offline_json(offline: Sequence[WentOffline]) -> str:
    return json.dumps(
        [
            {
                "device_id": o.device_id,
                "kind": o.kind,
                "venue_id": o.venue_id,
                "since": o.since.isoformat(),
                "reason": o.reason.value,
            }
            for o in offline
        ]
    )


def offline_from_json(value: Any) -> tuple[WentOffline, ...]:
    """The stored list back; an entry that cannot be read is left out rather than fatal."""
    items = json.loads(value) if isinstance(value, str | bytes) else value
    out = []
    for item in items if isinstance(items, list) else ():
        try:
            since = datetime.fromisoformat(item["since"])
            out.append(
                WentOffline(
                    str(item["device_id"]),
                    str(item["kind"]),
                    str(item["venue_id"]),
                    since if since.tzinfo else since.replace(tzinfo=UTC),
                    OfflineReason(item["reason"]),
                )
            )
        except (KeyError, TypeError, ValueError):
            continue
    return tuple(out)


STAGES: Final = ("rules", "cases", "alerting")
"""The stages that keep a watermark: `rules` covers rules and risk (evidence and scores)."""


def advance(
    conn: psycopg.Connection, stage: str, partition: str, position: int, now: datetime
) -> None:
    """Record that `stage` has fully processed `partition` up to `position` (in the caller's
    transaction, beside the outputs it produced); a watermark never moves back."""
    conn.execute(
        "INSERT INTO stage_watermark (stage, partition, pos, updated_at) VALUES (%s, %s, %s, %s)"
        " ON CONFLICT (stage, partition) DO UPDATE SET"
        " pos = greatest(stage_watermark.pos, excluded.pos), updated_at = excluded.updated_at",
        (stage, partition, position, now),
    )


def watermarks(conn: psycopg.Connection, partition: str) -> dict[str, int]:
    """Each stage's watermark in `partition`; a stage that never recorded one is at 0."""
    found: dict[str, int] = dict(
        conn.execute(
            "SELECT stage, pos FROM stage_watermark WHERE partition = %s", (partition,)
        ).fetchall()
    )
    return {stage: int(found.get(stage, 0)) for stage in STAGES}


def quarantine(
    conn: psycopg.Connection,
    stage: str,
    partition: str,
    position: int,
    *,
    attempts: int,
    error: str,
    now: datetime,
    item: str | None = None,
) -> None:
    """Keep what a stage kept failing on, with the error, so that a person can look."""
    conn.execute(
        "INSERT INTO quarantined_batch (stage, partition, pos, attempts, error, item,"
        " quarantined_at) VALUES (%s, %s, %s, %s, %s, %s, %s)",
        (stage, partition, position, attempts, _clean(error), _clean(item), now),
    )


def _clean(text: str | None) -> str | None:
    """PostgreSQL text holds no NUL; a message or repr is cut to a readable length."""
    return None if text is None else text.replace("\x00", "\\x00")[:2000]


def prune(conn: psycopg.Connection, before: datetime) -> int:
    """Forget positions committed before `before` that every stage of their partition has
    passed (their rows stay, with their `pos`, until the readings' own retention)."""
    return conn.execute(
        "DELETE FROM ingest_batch b WHERE committed_at < %s AND pos <= (SELECT min(w.pos)"
        " FROM stage_watermark w WHERE w.partition = b.partition)",
        (before,),
    ).rowcount
