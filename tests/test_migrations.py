"""Schema migrations and readings partitions against a real PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import psycopg
import pytest

from firewatch.db.migrate import Backend, discover, migrate
from firewatch.db.partitions import ensure_reading_partitions, partition_of
from firewatch.errors import MigrationError

TODAY = date(2026, 11, 29)

TABLES = {
    "station",
    "venue",
    "device",
    "reading",
    "device_event",
    "device_status",
    "device_availability",
    "device_liveness",
    "venue_scan",
    "rejected_message",
    "schema_migration",
}


def _insert_reading(conn: psycopg.Connection, device_id: str, ts: datetime) -> None:
    conn.execute(
        "INSERT INTO reading (ts, received_at, device_id, kind, venue_id, seq, smoke_obs, alarm)"
        " VALUES (%s, %s, %s, 'smoke', 'V1', 1, 0.1, false)",
        (ts, ts, device_id),
    )


def test_migrate_twice_applies_nothing_the_second_time(empty_db: str) -> None:
    with psycopg.connect(empty_db, autocommit=True) as conn:
        first = migrate(conn, TODAY)
        second = migrate(conn, TODAY)
        tables = {
            name
            for (name,) in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
            )
        }
        recorded = conn.execute("SELECT count(*) FROM schema_migration").fetchone()
    assert first.backend is Backend.POSTGRESQL  # no TimescaleDB on this machine
    assert [label.split(" ")[0] for label in first.applied] == [
        f"{m.version:04d}_{m.name}" for m in discover()
    ]
    assert second.applied == ()
    assert second.partitions_created == ()
    assert tables >= TABLES
    assert recorded == (len(discover()),)


def test_partitions_cover_the_days_ahead_and_behind(empty_db: str) -> None:
    with psycopg.connect(empty_db, autocommit=True) as conn:
        report = migrate(conn, TODAY, partition_days_ahead=3, partition_days_behind=2)
    assert report.partitions_created[0] == "reading_p20261127"
    assert report.partitions_created[-1] == "reading_p20261202"


def test_reading_lands_in_its_days_partition(fresh_db: str) -> None:
    today = datetime.now(UTC).replace(hour=23, minute=59, second=59, microsecond=0)
    tomorrow = today + timedelta(seconds=2)
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        _insert_reading(conn, "D1", today)
        _insert_reading(conn, "D1", tomorrow)
        assert partition_of(conn, today, "D1") == f"reading_p{today:%Y%m%d}"
        assert partition_of(conn, tomorrow, "D1") == f"reading_p{tomorrow:%Y%m%d}"


def test_rows_parked_in_default_move_into_a_new_partition(fresh_db: str) -> None:
    far = datetime(2031, 5, 17, 12, 0, tzinfo=UTC)
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        _insert_reading(conn, "D1", far)
        assert partition_of(conn, far, "D1") == "reading_default"
        created = ensure_reading_partitions(conn, far.date(), far.date() + timedelta(days=1))
        assert created == ["reading_p20310517"]
        assert partition_of(conn, far, "D1") == "reading_p20310517"
        assert conn.execute("SELECT count(*) FROM reading").fetchone() == (1,)


def test_redelivered_reading_is_refused_by_the_store(fresh_db: str) -> None:
    ts = datetime.now(UTC)
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        _insert_reading(conn, "D1", ts)
        with pytest.raises(psycopg.errors.UniqueViolation):
            _insert_reading(conn, "D1", ts)


def test_a_changed_migration_is_refused(empty_db: str) -> None:
    with psycopg.connect(empty_db, autocommit=True) as conn:
        migrate(conn, TODAY)
        conn.execute("UPDATE schema_migration SET checksum = 'edited' WHERE version = 1")
        with pytest.raises(MigrationError, match=r"0001_registry .* changed after it was applied"):
            migrate(conn, TODAY)


def test_migrate_refuses_a_connection_inside_a_transaction(empty_db: str) -> None:
    with psycopg.connect(empty_db) as conn, pytest.raises(MigrationError, match="autocommit"):
        migrate(conn, TODAY)


def test_a_venue_type_outside_the_contract_stops_the_migration_by_name(empty_db: str) -> None:
    """0014 puts the contract's venue types under a CHECK. A database with a venue written by
    hand with another type is not migrated past it, and the message names the venue."""
    today = datetime.now(UTC).date()
    with psycopg.connect(empty_db, autocommit=True) as conn:
        migrate(conn, today)
        conn.execute(
            "INSERT INTO station (station_id, name, kind, lat, lon)"
            " VALUES ('MS-1', '站', 'micro', 31.2, 121.4)"
        )
        with pytest.raises(psycopg.errors.CheckViolation):
            conn.execute(
                "INSERT INTO venue (venue_id, name, venue_type, category, community, grid,"
                " address, lat, lon, station_id) VALUES ('V-X', '店', 'karaoke_bar', 2, 'c', 'g',"
                " '路', 31.2, 121.4, 'MS-1')"
            )
        # The same database as it was before 0014, with such a venue in it.
        conn.execute("ALTER TABLE venue DROP CONSTRAINT venue_venue_type_check")
        conn.execute("DELETE FROM schema_migration WHERE version = 14")
        conn.execute(
            "INSERT INTO venue (venue_id, name, venue_type, category, community, grid, address,"
            " lat, lon, station_id) VALUES ('V-X', '店', 'karaoke_bar', 2, 'c', 'g', '路', 31.2,"
            " 121.4, 'MS-1')"
        )
        with pytest.raises(MigrationError, match=r"V-X \(karaoke_bar\)"):
            migrate(conn, today)
        conn.execute("UPDATE venue SET venue_type = 'small_entertainment' WHERE venue_id = 'V-X'")
        assert any(label.startswith("0014_") for label in migrate(conn, today).applied)
