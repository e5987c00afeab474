"""A device kind is declared once (`kernel.kinds`); what cannot be derived from the declaration
— the typed records, the tables, the words people read — is checked against it here, so that a
new kind missing one of them fails the suite instead of losing its readings."""

from __future__ import annotations

import re
from dataclasses import fields

import psycopg
import pytest

from firewatch.alerting.texts import SENSED
from firewatch.ingest.records import DeviceEvent, DeviceStatus, Reading
from firewatch.kernel import kinds
from firewatch.kernel.contract import DeviceKind, VenueType
from firewatch.kernel.kinds import KINDS, FieldType

HEAD = ("ts", "received_at", "device_id", "kind", "venue_id", "community", "grid", "station_id")


def _after(record: type, first: str) -> tuple[str, ...]:
    names = [f.name for f in fields(record)]
    return tuple(names[names.index(first) + 1 : names.index("extra")])


def test_every_contract_kind_is_declared() -> None:
    assert set(KINDS) == set(DeviceKind)


def test_records_carry_the_declared_fields_in_order() -> None:
    """Stored rows are read back by position: the records' attribute order is the tables'."""
    assert _after(Reading, "seq") == kinds.reading_columns()
    assert _after(DeviceEvent, "event") == kinds.event_columns()
    assert _after(DeviceStatus, "seq") == kinds.status_columns()
    assert tuple(f.name for f in fields(Reading))[: len(HEAD)] == HEAD


def test_every_declared_use_names_a_listed_field() -> None:
    for k in KINDS.values():
        for use in (*k.reading, *k.event_fields):
            assert use.key in kinds.FIELDS, (k.kind, use.key)
        for event, requires in k.events.items():
            assert requires <= {u.key for u in k.event_fields}, (k.kind, event, requires)
        numbers = (FieldType.NUMBER, FieldType.INTEGER)
        for use in k.reading:
            if use.field.type in numbers:
                assert use.field.lo is not None and use.field.hi is not None, use.key


def test_a_command_is_answered_by_a_declared_event_carrying_its_id() -> None:
    for k in KINDS.values():
        if k.command is None:
            continue
        assert "id" in k.events[k.command.answer], k.kind
        if k.command.target is not None:
            assert k.command.target in k.events[k.command.answer], k.kind
        assert k.command.label, k.kind


def test_every_criterion_has_words_for_people() -> None:
    """A notification never shows a raw code such as `lel` to a station member."""
    assert set(kinds.criteria().values()) <= set(SENSED)


def test_the_database_stores_every_declared_field(db_url: str) -> None:
    with psycopg.connect(db_url) as conn:

        def columns(table: str) -> set[str]:
            rows = conn.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = %s",
                (table,),
            )
            return {r[0] for r in rows}

        assert set(kinds.reading_columns()) <= columns("reading")
        assert set(kinds.event_columns()) <= columns("device_event")
        assert set(kinds.status_columns()) <= columns("device_status")
        hourly = columns("rollup_reading_hour")
        for column, how in kinds.rollups().items():
            wanted = {
                kinds.Rollup.MAX: {f"{column}_max"},
                kinds.Rollup.MEAN: {f"{column}_sum", f"{column}_n"},
                kinds.Rollup.MEAN_MAX: {f"{column}_sum", f"{column}_n", f"{column}_max"},
                kinds.Rollup.COUNT_TRUE: {f"{column}_n"},
            }[how]
            assert wanted <= hourly, (column, wanted - hourly)
            assert wanted <= columns("reading_hourly"), (column, wanted)


def test_the_registry_takes_a_device_of_every_kind(fresh_db: str) -> None:
    with psycopg.connect(fresh_db) as conn:
        conn.execute(
            "INSERT INTO station (station_id, name, kind, lat, lon)"
            " VALUES ('MS-1', '微型消防站', 'micro', 31.2, 121.4)"
        )
        conn.execute(
            "INSERT INTO venue (venue_id, name, venue_type, category, community, grid, address,"
            " lat, lon, station_id) VALUES ('V-1', '小吃店', 'small_restaurant', 2, 'Xinhua',"
            " 'G-1', '长乐路 1 号', 31.2, 121.4, 'MS-1')"
        )
        for kind in DeviceKind:
            conn.execute(
                "INSERT INTO device (device_id, kind, venue_id, heartbeat_s)"
                " VALUES (%s, %s, 'V-1', 300)",
                (f"D-{kind.value}", kind.value),
            )
        with pytest.raises(psycopg.errors.CheckViolation):
            conn.execute(
                "INSERT INTO device (device_id, kind, venue_id, heartbeat_s)"
                " VALUES ('D-x', 'sprinkler', 'V-1', 300)"
            )


def test_the_database_knows_exactly_the_contracts_venue_types(db_url: str) -> None:
    """Alerting reads venues as the kernel's records: the CHECK on `venue.venue_type` and
    `VenueType` must name the same types (a new type needs its migration)."""
    with psycopg.connect(db_url) as conn:
        row = conn.execute(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint"
            " WHERE conname = 'venue_venue_type_check'"
        ).fetchone()
    assert row is not None
    assert set(re.findall(r"'([a-z_]+)'", row[0])) == {v.value for v in VenueType}
