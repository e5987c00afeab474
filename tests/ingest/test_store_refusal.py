"""A batch the store refuses leaves nothing behind: the next batches, and their liveness, go in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from firewatch.ingest.records import Reading
from firewatch.ingest.store import BatchWriter
from firewatch.kernel.contract import DeviceKind
from tests.ingest.seed import seed_registry

T0 = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)


def _reading(device_id: str, seq: int, smoke_obs: float) -> Reading:
    at = T0 + timedelta(seconds=seq)
    return Reading(at, at, device_id, DeviceKind.SMOKE, "V-HOME", "Xinhua", "G-03", "MS-1", seq,
                   smoke_obs=smoke_obs, temp_c=21.0, alarm=False)  # fmt: skip


def test_a_refused_batch_does_not_poison_the_next_liveness_flush(fresh_db: str) -> None:
    seed_registry(fresh_db)
    with psycopg.connect(fresh_db) as conn:
        writer = BatchWriter(conn)
        with pytest.raises(psycopg.errors.NumericValueOutOfRange):
            # a value no `real` column holds: the store refuses the whole batch
            writer.write([_reading("SMK-1", 1, 1e300)], [], flush_liveness=False)
        writer.write([_reading("SMK-2", 2, 0.1)], [], flush_liveness=True)
        stored = conn.execute("SELECT device_id FROM reading").fetchall()
        seen = conn.execute("SELECT device_id FROM device_liveness").fetchall()
    assert stored == [("SMK-2",)]
    assert seen == [("SMK-2",)], "the refused device is not pending, the good one is flushed"
