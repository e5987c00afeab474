"""Evidence at rest: written in batches by its own thread, read back equal, stored once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg

from firewatch.kernel.clock import ManualClock
from firewatch.rules.evidence import Evidence
from firewatch.rules.store import EvidenceWriter, read_evidence, write_evidence
from tests.rules.helpers import decoded, evaluate, scenario_run

NOW = datetime(2026, 5, 2, 0, 0, tzinfo=UTC)


def _day_of_evidence() -> list[Evidence]:
    found = evaluate(decoded(scenario_run(1)))
    assert found
    return found


def _order(found: list[Evidence]) -> list[Evidence]:
    return sorted(found, key=lambda e: (e.at, e.rule_id, e.subject_id, e.hazard or ""))


def test_the_writer_stores_every_finding_and_reads_back_equal(fresh_db: str) -> None:
    found = _day_of_evidence()
    with EvidenceWriter(lambda: psycopg.connect(fresh_db), ManualClock(NOW), batch_size=7) as w:
        w(found[:10])
        w(found[10:])
        assert w.flush(20)
    assert w.written == len(found) and w.dropped == 0
    with psycopg.connect(fresh_db) as conn:
        back = read_evidence(conn, NOW - timedelta(days=400), NOW + timedelta(days=1))
        recorded = conn.execute("SELECT DISTINCT recorded_at FROM evidence").fetchall()
    assert _order(back) == _order(found)
    assert recorded == [(NOW,)]


def test_a_finding_written_twice_is_stored_once(fresh_db: str) -> None:
    found = _day_of_evidence()[:5]
    with psycopg.connect(fresh_db) as conn:
        write_evidence(conn, found, NOW)
        write_evidence(conn, found, NOW + timedelta(seconds=1))  # a retried batch
        conn.commit()
        (count,) = conn.execute("SELECT count(*) FROM evidence").fetchone() or (0,)
        readings = conn.execute(
            "SELECT readings->0->>'table', jsonb_array_length(readings) FROM evidence"
            " ORDER BY evidence_id LIMIT 1"
        ).fetchone()
    assert count == 5
    assert readings is not None and readings[1] == len(found[0].readings)


def test_the_writer_waits_for_the_database_and_loses_nothing(fresh_db: str) -> None:
    found = _day_of_evidence()[:3]
    attempts = []

    def connect() -> psycopg.Connection:
        attempts.append(1)
        if len(attempts) < 3:
            raise psycopg.OperationalError("connection refused (a test)")
        return psycopg.connect(fresh_db)

    with EvidenceWriter(connect, ManualClock(NOW), retry_s=0.01) as writer:
        writer(found)
        assert writer.flush(20)
    with psycopg.connect(fresh_db) as conn:
        assert conn.execute("SELECT count(*) FROM evidence").fetchone() == (3,)
    assert len(attempts) == 3
