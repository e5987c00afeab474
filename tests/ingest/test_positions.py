"""The hand-off's store side: positions written with the rows, read back as the batches the
stages saw, old positions forgotten once every stage has passed them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg

from firewatch.ingest import positions
from firewatch.ingest.liveness import OfflineReason, WentOffline
from firewatch.ingest.readback import stored_batches
from firewatch.ingest.records import Availability, DeviceEvent, Reading
from firewatch.ingest.store import BatchWriter
from firewatch.kernel.contract import DeviceKind
from tests.ingest.seed import seed_registry

T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)


def reading(device: str, seq: int) -> Reading:
    ts = T0 + timedelta(seconds=seq)
    return Reading(ts, ts, device, DeviceKind.SMOKE, "V-HOME", "Xinhua", "G-03", "MS-1", seq,
                   smoke_obs=0.1, temp_c=22.5, co_ppm=1.0, alarm=False, extra={"fw": "1.2"})  # fmt: skip


def test_each_batch_reads_back_whole_under_its_position_and_only_its_partition(
    fresh_db: str,
) -> None:
    seed_registry(fresh_db)
    with psycopg.connect(fresh_db) as conn:
        mine = BatchWriter(conn, partition="p1of2")
        theirs = BatchWriter(conn, partition="p2of2")
        event = DeviceEvent(T0, T0, "SMK-1", DeviceKind.SMOKE, "V-HOME", "Xinhua", "G-03",
                            "MS-1", 7, "alarm")  # fmt: skip
        gone = Availability(T0, "SMK-2", DeviceKind.SMOKE, "V-HOME", "Xinhua", "G-03", "MS-1",
                            False)  # fmt: skip
        first = mine.write([reading("SMK-1", 1), event, gone], [], flush_liveness=False)
        other = theirs.write([reading("SMK-1", 2)], [], flush_liveness=False)
        second = mine.write([reading("SMK-1", 3), reading("SMK-1", 1)], [], flush_liveness=False)
        offline = WentOffline("SMK-2", "smoke", "V-HOME", T0, OfflineReason.SILENT)
        with conn.transaction():
            swept = positions.record_batch(conn, "p1of2", T0, 0, [offline])
        assert first.position is not None and other.position is not None
        assert first.position < other.position < second.position < swept  # type: ignore[operator]
        back = list(stored_batches(conn, "p1of2", 0))
    assert [b.position for b in back] == [first.position, second.position, swept]
    assert back[0].records == (event, gone, reading("SMK-1", 1))  # arrival order
    assert back[1].records == (reading("SMK-1", 3),)  # the redelivered seq 1 is stored once
    assert back[2].records == () and back[2].offline == (offline,)


def test_a_stored_row_that_no_longer_reads_is_left_out_not_fatal(fresh_db: str) -> None:
    seed_registry(fresh_db)
    with psycopg.connect(fresh_db) as conn:
        result = BatchWriter(conn, partition="p1of1").write(
            [reading("SMK-1", 1), reading("SMK-1", 2)], [], flush_liveness=False
        )
        conn.execute("ALTER TABLE reading DROP CONSTRAINT IF EXISTS reading_kind_check")
        conn.execute("UPDATE reading SET kind = 'no-such-kind' WHERE seq = 2")
        conn.commit()
        back = list(stored_batches(conn, "p1of1", 0))
    assert [b.position for b in back] == [result.position]
    assert back[0].records == (reading("SMK-1", 1),)


def test_positions_every_stage_has_passed_are_forgotten_when_old(fresh_db: str) -> None:
    seed_registry(fresh_db)
    with psycopg.connect(fresh_db) as conn:
        old = BatchWriter(conn, partition="p1of1", now=lambda: T0 - timedelta(days=9))
        done = old.write([reading("SMK-1", 1)], [], flush_liveness=False).position
        waiting = old.write([reading("SMK-1", 2)], [], flush_liveness=False).position
        assert done is not None and waiting is not None
        with conn.transaction():
            for stage in positions.STAGES:
                positions.advance(conn, stage, "p1of1", done, T0)
            positions.advance(conn, "rules", "p1of1", waiting, T0)
            gone = positions.prune(conn, T0 - timedelta(days=8))
        assert gone == 1
        left = [p for (p,) in conn.execute("SELECT pos FROM ingest_batch")]
        assert left == [waiting]  # alerting has not passed it yet: kept
        assert positions.watermarks(conn, "p1of1") == {
            "rules": waiting, "cases": done, "alerting": done
        }  # fmt: skip
