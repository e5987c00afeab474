"""The alert rows: read an alert as the decisions see it, write back what they decided.

Every change of a venue's alerts happens under a transaction-scoped advisory lock on the venue,
so concurrent workers take turns; the unique partial index on (venue, kind) of open alerts is
the second line: two open fire alerts for one venue cannot exist at all.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, Final
from zoneinfo import ZoneInfo

import psycopg
from psycopg.rows import dict_row

from firewatch.alerting.records import AlertKind, AlertState, AlertView, DeviceView, Policy, Signal
from firewatch.kernel.contract import Level
from firewatch.rules.evidence import ReadingRef

_COLUMNS: Final = (
    "alert_id, venue_id, kind, level, state, policy, opened_at, confirmed_at, acked_at,"
    " contact_acked_at, last_signal_at, criteria, escalation_step, notify_round,"
    " last_notified_at, notified_state, notified_level, muted, summary, signals, acked_by,"
    " contact_acked_by, resolved_at, resolution, case_id, next_check_at, version"
)
_DEVICE_COLUMNS: Final = (
    "device_id, level, muted, first_at, last_at, alarm_since, alarming, hushed_at, cleared_at"
)


def lock_venue(conn: psycopg.Connection, venue_id: str) -> None:
    conn.execute("SELECT pg_advisory_xact_lock(hashtextextended('alert:' || %s, 0))", (venue_id,))


def next_alert_id(conn: psycopg.Connection, now: datetime, zone: ZoneInfo) -> str:
    row = conn.execute("SELECT nextval('alert_number')").fetchone()
    assert row is not None
    return f"AL-{now.astimezone(zone):%Y%m%d}-{int(row[0]):06d}"


def _view(conn: psycopg.Connection, row: dict[str, Any]) -> AlertView:
    devices = conn.execute(
        f"SELECT {_DEVICE_COLUMNS} FROM alert_device WHERE alert_id = %s ORDER BY first_at,"
        " device_id",
        (row["alert_id"],),
    ).fetchall()
    criteria = {k: datetime.fromisoformat(v) for k, v in (row["criteria"] or {}).items()}
    notified, told = row["notified_state"], row["notified_level"]
    return AlertView(
        row["alert_id"], row["venue_id"], AlertKind(row["kind"]), Level(row["level"]),
        AlertState(row["state"]), Policy(row["policy"]), row["opened_at"], row["confirmed_at"],
        row["acked_at"], row["contact_acked_at"], row["last_signal_at"], criteria,
        tuple(DeviceView(d[0], Level(d[1]), *d[2:]) for d in devices), row["escalation_step"],
        row["notify_round"], row["last_notified_at"],
        AlertState(notified) if notified else None, Level(told) if told else None, row["muted"],
        row["summary"], row["signals"], row["acked_by"], row["contact_acked_by"],
        row["resolved_at"], row["resolution"], row["case_id"], row["next_check_at"],
        row["version"],
    )  # fmt: skip


def _one(conn: psycopg.Connection, where: str, args: Sequence[object]) -> AlertView | None:
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(f"SELECT {_COLUMNS} FROM alert WHERE {where} FOR UPDATE", args).fetchone()
    return None if row is None else _view(conn, row)


def load_open(conn: psycopg.Connection, venue_id: str, kind: AlertKind) -> AlertView | None:
    """The venue's open alert of this kind, locked for the transaction."""
    return _one(conn, "venue_id = %s AND kind = %s AND state <> 'resolved'", (venue_id, kind))


def load(conn: psycopg.Connection, alert_id: str) -> AlertView | None:
    return _one(conn, "alert_id = %s", (alert_id,))


def venue_of(conn: psycopg.Connection, alert_id: str) -> str | None:
    row = conn.execute("SELECT venue_id FROM alert WHERE alert_id = %s", (alert_id,)).fetchone()
    return None if row is None else str(row[0])


def _values(a: AlertView) -> dict[str, object]:
    return {
        "alert_id": a.alert_id, "venue_id": a.venue_id, "kind": a.kind, "level": a.level,
        "state": a.state, "policy": a.policy, "opened_at": a.opened_at,
        "confirmed_at": a.confirmed_at, "acked_at": a.acked_at,
        "contact_acked_at": a.contact_acked_at, "last_signal_at": a.last_signal_at,
        "criteria": json.dumps({k: v.isoformat() for k, v in a.criteria.items()}),
        "escalation_step": a.escalation_step, "notify_round": a.notify_round,
        "last_notified_at": a.last_notified_at, "notified_state": a.notified_state,
        "notified_level": a.notified_level,
        "muted": a.muted, "summary": a.summary, "signals": a.signals, "acked_by": a.acked_by,
        "contact_acked_by": a.contact_acked_by, "resolved_at": a.resolved_at,
        "resolution": a.resolution, "case_id": a.case_id, "next_check_at": a.next_check_at,
    }  # fmt: skip


def insert(conn: psycopg.Connection, a: AlertView) -> None:
    values = _values(a)
    names = ", ".join(values)
    conn.execute(
        f"INSERT INTO alert ({names}) VALUES ({', '.join(f'%({n})s' for n in values)})", values
    )
    save_devices(conn, a)


def save(conn: psycopg.Connection, a: AlertView) -> None:
    values = _values(a)
    sets = ", ".join(f"{n} = %({n})s" for n in values if n not in ("alert_id", "venue_id"))
    conn.execute(
        f"UPDATE alert SET {sets}, version = version + 1 WHERE alert_id = %(alert_id)s", values
    )
    save_devices(conn, a)


def save_devices(conn: psycopg.Connection, a: AlertView) -> None:
    with conn.cursor() as cur:
        cur.executemany(
            f"INSERT INTO alert_device (alert_id, {_DEVICE_COLUMNS})"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
            " ON CONFLICT (alert_id, device_id) DO UPDATE SET level = EXCLUDED.level,"
            " muted = EXCLUDED.muted, last_at = EXCLUDED.last_at,"
            " alarm_since = EXCLUDED.alarm_since, alarming = EXCLUDED.alarming,"
            " hushed_at = EXCLUDED.hushed_at, cleared_at = EXCLUDED.cleared_at",
            [(a.alert_id, d.device_id, d.level, d.muted, d.first_at, d.last_at, d.alarm_since,
              d.alarming, d.hushed_at, d.cleared_at) for d in a.devices],
        )  # fmt: skip


def _ref(r: ReadingRef) -> dict[str, object]:
    return {"device_id": r.device_id, "ts": r.ts.isoformat(), "seq": r.seq, "field": r.field,
            "value": r.value, "table": r.table}  # fmt: skip


def add_signal(conn: psycopg.Connection, alert_id: str, s: Signal, *, now: datetime,
               grouped: str, muted: str | None) -> None:  # fmt: skip
    conn.execute(
        "INSERT INTO alert_signal (alert_id, received_at, at, source, name, version, level,"
        " criteria, device_ids, summary, readings, grouped, muted)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
        (alert_id, now, s.at, s.source, s.name, s.version, s.level, sorted(s.criteria),
         list(s.device_ids), s.summary, json.dumps([_ref(r) for r in s.readings]), grouped,
         muted),
    )  # fmt: skip


def count_signal(conn: psycopg.Connection, alert_id: str) -> None:
    conn.execute("UPDATE alert SET signals = signals + 1 WHERE alert_id = %s", (alert_id,))


def add_transition(  # noqa: PLR0917 - the row's columns, in order
    conn: psycopg.Connection, alert_id: str, at: datetime, before: AlertState | None,
    after: AlertState, reason: str, actor: str,
) -> None:  # fmt: skip
    conn.execute(
        "INSERT INTO alert_transition (alert_id, seq, at, from_state, to_state, reason, actor)"
        " SELECT %s, coalesce(max(seq), 0) + 1, %s, %s, %s, %s, %s FROM alert_transition"
        " WHERE alert_id = %s",
        (alert_id, at, before, after, reason, actor, alert_id),
    )


def add_escalation(  # noqa: PLR0917 - the row's columns, in order
    conn: psycopg.Connection, alert_id: str, step: int, at: datetime, target: str, reason: str
) -> None:
    conn.execute(
        "INSERT INTO alert_escalation (alert_id, step, at, target, reason)"
        " VALUES (%s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
        (alert_id, step, at, target, reason),
    )


def fire_confirmed(conn: psycopg.Connection, venue_id: str) -> bool:
    row = conn.execute(
        "SELECT 1 FROM alert WHERE venue_id = %s AND kind = 'fire'"
        " AND state IN ('confirmed', 'acknowledged')",
        (venue_id,),
    ).fetchone()
    return row is not None


def wake_troubles(conn: psycopg.Connection, venue_id: str, now: datetime) -> None:
    """Have the venue's open maintenance alert looked at again now."""
    conn.execute(
        "UPDATE alert SET next_check_at = %s WHERE venue_id = %s AND kind = 'trouble'"
        " AND state <> 'resolved'",
        (now, venue_id),
    )


def due(conn: psycopg.Connection, now: datetime, limit: int) -> list[tuple[str, str]]:
    """(alert_id, venue_id) of open alerts whose next check has come."""
    rows = conn.execute(
        "SELECT alert_id, venue_id FROM alert WHERE state <> 'resolved' AND next_check_at <= %s"
        " ORDER BY next_check_at LIMIT %s",
        (now, limit),
    ).fetchall()
    return [(str(r[0]), str(r[1])) for r in rows]


def next_due(conn: psycopg.Connection) -> datetime | None:
    row = conn.execute(
        "SELECT least((SELECT min(next_check_at) FROM alert WHERE state <> 'resolved'),"
        " (SELECT min(deadline_at) FROM actuation WHERE answered_at IS NULL"
        "  AND escalated_at IS NULL))"
    ).fetchone()
    return None if row is None else row[0]


def count_false(conn: psycopg.Connection, venue_id: str, day: date,
                dismissed: bool) -> tuple[int, int, datetime | None]:  # fmt: skip
    """Count one false (or dismissed) alarm; the day's totals and when it was flagged."""
    column = "dismissed" if dismissed else "false_alarms"
    row = conn.execute(
        f"INSERT INTO venue_false_alarm (venue_id, day, {column}) VALUES (%s, %s, 1)"
        f" ON CONFLICT (venue_id, day) DO UPDATE SET {column} = venue_false_alarm.{column} + 1"
        " RETURNING false_alarms, dismissed, flagged_at",
        (venue_id, day),
    ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1]), row[2]


def flag_venue(conn: psycopg.Connection, venue_id: str, day: date, now: datetime) -> None:
    conn.execute(
        "UPDATE venue_false_alarm SET flagged_at = %s WHERE venue_id = %s AND day = %s"
        " AND flagged_at IS NULL",
        (now, venue_id, day),
    )
