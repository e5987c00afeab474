"""Shared pieces of the alerting tests: a small registry, evidence made by hand, a real HTTP
receiver, and a harness that drives the stage on a manual clock against the real database."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from psycopg.rows import dict_row

from firewatch.alerting import (
    AckSettings,
    AlertSettings,
    AlertStage,
    Contacts,
    DeliverySettings,
    Outcome,
)
from firewatch.alerting.records import Policy
from firewatch.ingest.records import DeviceEvent
from firewatch.ingest.stream import Batch
from firewatch.kernel.clock import ManualClock
from firewatch.kernel.contract import DeviceKind, Level
from firewatch.rules.evidence import Category, Evidence, ReadingRef, Scope

T0 = datetime(2026, 5, 4, 18, 0, tzinfo=UTC)  # 02:00 in Shanghai: nobody is awake
SECRET = b"test-ack-secret-0123456789"
STATION_PHONES = ("+8613800000001", "+8613800000002")
CHIEF = "+8613800000009"
OFFICE = "+8602100000119"
BRIGADE = "+8613700000119"
GRID_STAFF = "+8613600000001"

VENUES = {
    # venue: (type, contacts, community, grid)
    "V-HOME": ("rental_housing", ("+8613900000001",), "梅园", "G-1"),
    "V-KITCHEN": ("small_restaurant", ("+8613900000002",), "梅园", "G-1"),
    "V-SHED": ("ebike_shed", ("+8613900000003",), "松林", "G-2"),
    "V-HOTEL": ("small_hotel", ("+8613900000004",), "松林", "G-2"),
}
DEVICES = {
    "SMK-1": ("smoke", "V-HOME", "二楼卧室"),
    "SMK-2": ("smoke", "V-HOME", "一楼客厅"),
    "SMK-3": ("smoke", "V-KITCHEN", "后厨"),
    "SMK-4": ("smoke", "V-KITCHEN", "大堂"),
    "SMK-5": ("smoke", "V-SHED", "车棚顶"),
    "CHG-1": ("charging", "V-SHED", "车棚 A 区"),
    "SMK-6": ("smoke", "V-HOTEL", "3 楼走廊"),
    "GAS-1": ("gas", "V-KITCHEN", "后厨灶台旁"),
}

SETTINGS = AlertSettings(
    policies={"small_restaurant": Policy.CORROBORATION,
              "small_hotel": Policy.POSITIVE_ALARM_SEQUENCE},
    delivery=DeliverySettings(sms_url="http://127.0.0.1:9/sms", push_url="http://127.0.0.1:9/push",
                              webhook_url="http://127.0.0.1:9/hook"),
    ack=AckSettings(base_url="https://fw.example/api/v1/ack", secret=SECRET),
    contacts=Contacts(office=(OFFICE,), chiefs={"MS-1": (CHIEF,)}, grid_staff={"G-1": (GRID_STAFF,),
                      "G-2": (GRID_STAFF,)}),
)  # fmt: skip


def seed(url: str) -> None:
    """One micro station, one professional brigade, four venues, eight devices."""
    with psycopg.connect(url) as conn:
        conn.execute(
            "INSERT INTO station (station_id, name, kind, phones, lat, lon) VALUES"
            " ('MS-1', '梅园微型消防站', 'micro', %s, 31.23, 121.47),"
            " ('PS-1', '专职消防队', 'professional', %s, 31.25, 121.50)",
            (list(STATION_PHONES), [BRIGADE]),
        )
        for venue_id, (venue_type, contacts, community, grid) in VENUES.items():
            conn.execute(
                "INSERT INTO venue (venue_id, name, venue_type, category, community, grid,"
                " address, lat, lon, station_id, contacts) VALUES (%s, %s, %s, 1, %s, %s,"
                " '长乐路 1 号', 31.23, 121.47, 'MS-1', %s)",
                (venue_id, f"{venue_id} 场所", venue_type, community, grid, list(contacts)),
            )
        for device_id, (kind, venue_id, location) in DEVICES.items():
            conn.execute(
                "INSERT INTO device (device_id, kind, venue_id, location, heartbeat_s)"
                " VALUES (%s, %s, %s, %s, 60)",
                (device_id, kind, venue_id, location),
            )


FIELDS = {"smoke": "smoke_obs", "heat": "temp_c", "co": "co_ppm", "gas": "h2_ppm"}


def evidence(device_id: str, at: datetime, level: Level = Level.ORANGE, *,
             sensed: Sequence[str] = ("smoke",), category: Category = Category.FIRE,
             port: int | None = None, rule_id: str = "smoke_rise") -> Evidence:  # fmt: skip
    venue_id = DEVICES[device_id][1]
    refs = tuple(ReadingRef(device_id, at, 1, FIELDS.get(s, "event"), 1.0 if s in FIELDS else s)
                 for s in sensed)  # fmt: skip
    if port is not None:
        refs += (ReadingRef(device_id, at, 1, "port", port),)
    return Evidence(rule_id, 1, category, level, Scope.DEVICE, device_id, venue_id, (device_id,),
                    at, f"{rule_id} at {device_id}", refs)  # fmt: skip


def event(device_id: str, at: datetime, name: str, *, seq: int = 1, port: int | None = None,
          command_id: str | None = None) -> DeviceEvent:  # fmt: skip
    kind, venue_id, _ = DEVICES[device_id]
    return DeviceEvent(at, at, device_id, DeviceKind(kind), venue_id, VENUES[venue_id][2],
                       VENUES[venue_id][3], "MS-1", seq, name, port=port,
                       command_id=command_id)  # fmt: skip


class Harness:
    """The stage on a manual clock: inputs processed at once, time moved by hand."""

    def __init__(self, url: str, settings: AlertSettings = SETTINGS, start: datetime = T0,
                 **stage: Any) -> None:  # fmt: skip
        self.url = url
        self.clock = ManualClock(start)
        self.stage = AlertStage(lambda: psycopg.connect(url), self.clock, settings, **stage)
        self.db = psycopg.connect(url, autocommit=True)

    @property
    def now(self) -> datetime:
        return self.clock.now()

    def move_to(self, at: datetime) -> None:
        self.clock.advance((at - self.clock.now()).total_seconds())

    def evidence(self, *items: Evidence) -> list[Outcome]:
        self.stage.take(evidence=items)
        return self.stage.drain()

    def fire(self, device_id: str, level: Level = Level.ORANGE, **kw: Any) -> list[Outcome]:
        return self.evidence(evidence(device_id, self.now, level, **kw))

    def events(self, *items: DeviceEvent) -> list[Outcome]:
        self.stage.consume(Batch(tuple(items), (), self.now))
        return self.stage.drain()

    def advance(self, seconds: float) -> list[Outcome]:
        """Move the clock, ticking at every moment the stage said something was due."""
        end = self.now + timedelta(seconds=seconds)
        out: list[Outcome] = []
        while (due := self.stage.next_due()) is not None and due <= end:
            self.move_to(max(due, self.now))
            out += self.stage.tick()
        self.move_to(end)
        out += self.stage.tick()
        return out

    def alert(self, venue_id: str, kind: str = "fire") -> dict[str, Any]:
        with self.db.cursor(row_factory=dict_row) as cur:
            row = cur.execute("SELECT * FROM alert WHERE venue_id = %s AND kind = %s"
                              " ORDER BY opened_at DESC LIMIT 1", (venue_id, kind)).fetchone()  # fmt: skip
        assert row is not None, f"no {kind} alert at {venue_id}"
        return row

    def alerts(self) -> list[dict[str, Any]]:
        with self.db.cursor(row_factory=dict_row) as cur:
            return cur.execute("SELECT * FROM alert ORDER BY opened_at, alert_id").fetchall()

    def notices(self, alert_id: str | None = None, **match: str) -> list[dict[str, Any]]:
        with self.db.cursor(row_factory=dict_row) as cur:
            rows = cur.execute(
                "SELECT * FROM notification WHERE (%(a)s::text IS NULL OR alert_id = %(a)s)"
                " ORDER BY created_at, notification_id",
                {"a": alert_id},
            ).fetchall()
        return [r for r in rows if all(r[k] == v for k, v in match.items())]

    def recipients(self, alert_id: str, purpose: str, channel: str = "sms") -> set[str]:
        return {n["recipient"] for n in self.notices(alert_id, purpose=purpose, channel=channel)}

    def transitions(self, alert_id: str) -> list[tuple[str | None, str, str]]:
        rows = self.db.execute(
            "SELECT from_state, to_state, reason FROM alert_transition WHERE alert_id = %s"
            " ORDER BY seq",
            (alert_id,),
        ).fetchall()
        return [(r[0], r[1], r[2]) for r in rows]

    def close(self) -> None:
        self.stage.close()
        self.db.close()
