"""Detector behaviour the rule files cannot show: ports, clocks, cooldowns, night windows,
absence beyond 3 heartbeats, and the readings each finding carries."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from firewatch.ingest.liveness import OfflineReason, WentOffline
from firewatch.ingest.records import Decoded
from firewatch.ingest.stream import Batch
from firewatch.rules.detectors.base import LocalDay, moment
from firewatch.rules.directory import Directory
from firewatch.rules.engine import RuleEngine
from firewatch.rules.evidence import Evidence
from firewatch.rules.loader import Library
from firewatch.rules.spec import TimeWindow
from firewatch.rules.testing import event, reading, spec_of
from firewatch.rules.watch import Reload, decide
from tests.rules.helpers import ZONE

T0 = datetime(2026, 5, 1, 2, 0, tzinfo=UTC).timestamp()  # 10:00 in Shanghai


def _engine(*specs: object, heartbeats: dict[str, int] | None = None) -> RuleEngine:
    return RuleEngine(Library(tuple(specs)), zone=ZONE, directory=Directory({}, heartbeats))  # type: ignore[arg-type]


def _feed(
    engine: RuleEngine, *records: Decoded, offline: tuple[WentOffline, ...] = ()
) -> list[Evidence]:
    found = []
    for r in records:
        found += engine.evaluate(Batch((r,), (), r.received_at))
    if offline:
        found += engine.evaluate(Batch((), offline, offline[-1].since))
    return found


def test_the_ports_of_a_station_are_separate_packs() -> None:
    rule = spec_of("rate_of_rise", kind="charging", field="temp_c", rate_per_min=2,
                   window="5m", min_span="2m", when="state == charging")  # fmt: skip
    engine = _engine(rule)
    records = []
    for n in range(6):  # port 1 heats 3 °C a minute, port 2 holds 30 °C, interleaved
        t = T0 + 60 * n
        records.append(reading("CHG-1", t, kind="charging", seq=2 * n, port=1, state="charging",
                               temp_c=32.0 + 3 * n))  # fmt: skip
        records.append(reading("CHG-1", t + 1, kind="charging", seq=2 * n + 1, port=2,
                               state="charging", temp_c=30.0))  # fmt: skip
    found = _feed(engine, *records)
    assert [(e.subject_id, e.at, e.summary.split(":")[0]) for e in found] == [
        ("CHG-1", moment(T0 + 120), "CHG-1 port 1")
    ]
    assert [(r.field, r.value) for r in found[0].readings][-1] == ("port", 1)  # to switch off
    assert engine.state_bytes_of("CHG-1") > 0  # both ports count as the station's


def test_a_clock_going_back_starts_the_window_again() -> None:
    rule = spec_of("rate_of_rise", field="temp_c", rate_per_min=8.3, window="60s")
    engine = _engine(rule)
    # A cold 10 °C at t0 + 100 s by a clock running fast; the reboot sets it back 90 s and the
    # room warms slowly from 20 °C. Kept, the stale sample would make 10 -> 22 °C in 30 s.
    samples = [(100, 10.0), (10, 20.0), (40, 20.5), (70, 21.0), (100, 21.5), (130, 22.0)]
    found = _feed(engine, *(reading("SMK-1", T0 + t, temp_c=v) for t, v in samples))
    assert found == []


@pytest.mark.parametrize(
    ("gap_s", "hits"),
    [
        (300, 1),  # a second alarm inside the 10-minute cooldown is quiet
        (660, 2),  # after the cooldown it is a finding again
    ],
)
def test_cooldown(gap_s: int, hits: int) -> None:
    rule = spec_of("threshold", source="event", event="alarm", cooldown="10m")
    found = _feed(_engine(rule), event("SMK-1", T0, "alarm"), event("SMK-1", T0 + gap_s, "alarm"))
    assert len(found) == hits


NIGHT = TimeWindow(22 * 60, 6 * 60)
DAY = TimeWindow(9 * 60, 17 * 60)


@pytest.mark.parametrize(
    ("window", "local", "inside"),
    [
        (NIGHT, "2026-05-01T21:59:59+08:00", False),  # a second before the night starts
        (NIGHT, "2026-05-01T22:00:00+08:00", True),  # the start is inside
        (NIGHT, "2026-05-02T00:30:00+08:00", True),  # past midnight, still the same night
        (NIGHT, "2026-05-02T05:59:00+08:00", True),  # the last minute of the night
        (NIGHT, "2026-05-02T06:00:00+08:00", False),  # the end is outside
        (DAY, "2026-05-01T09:00:00+08:00", True),  # a window that does not wrap: its start
        (DAY, "2026-05-01T17:00:00+08:00", False),  # and its end
        (NIGHT, "2026-05-01T14:30:00+00:00", True),  # 22:30 in Shanghai, written in UTC
    ],
)
def test_time_of_day_windows_are_local(window: TimeWindow, local: str, inside: bool) -> None:
    day = LocalDay(ZONE)
    assert day.inside(window, datetime.fromisoformat(local).timestamp()) is inside


def test_absence_beyond_three_heartbeats_waits_and_forgives_a_device_that_speaks() -> None:
    rule = spec_of("absence", kind=None, source="offline", heartbeats=5, category="trouble",
                   level="blue")  # fmt: skip
    engine = _engine(rule, heartbeats={"SMK-1": 60, "SMK-2": 60})
    since = moment(T0)
    gone = tuple(WentOffline(d, "smoke", "V-1", since, OfflineReason.SILENT)
                 for d in ("SMK-1", "SMK-2"))  # fmt: skip
    found = engine.evaluate(Batch((), gone, since))
    found += engine.evaluate(Batch((reading("SMK-2", T0 + 60, temp_c=21.0),), (), moment(T0 + 60)))
    found += engine.evaluate(Batch((reading("SMK-9", T0 + 130),), (), moment(T0 + 130)))
    # SMK-1 stays silent: 2 more heartbeats after ingest's 3; SMK-2 spoke again in time.
    assert [(e.subject_id, e.at) for e in found] == [("SMK-1", moment(T0 + 120))]


def test_a_finding_carries_the_readings_that_made_it_exactly() -> None:
    rule = spec_of("rate_of_rise", field="temp_c", rate_per_min=8.3, window="60s")
    records = [reading("SMK-1", T0 + 5 * n + 0.123, seq=n, temp_c=20.0 + n) for n in range(8)]
    (found,) = _feed(_engine(rule), *records)
    first, last = found.readings
    assert (first.ts, first.seq, first.value, first.table) == (records[0].ts, 0, 20.0, "reading")
    assert (last.ts, last.seq, last.value) == (records[4].ts, 4, 24.0)
    assert found.at == records[4].ts and found.rule_version == 1


def test_a_count_by_community_spans_its_venues() -> None:
    rule = spec_of("count", kind="elevator", source="event", event="ebike_detected",
                   scope="community", count=2, within="1d", category="hazard",
                   hazard="ebike_in_lift", level="yellow")  # fmt: skip
    found = _feed(
        _engine(rule),
        event("ELV-1", T0, "ebike_detected", kind="elevator", venue="V-1"),
        event("ELV-7", T0 + 60, "ebike_detected", kind="elevator", venue="V-7"),
    )
    assert [(e.subject_id, e.device_ids, e.hazard) for e in found] == [
        ("Xinhua", ("ELV-1", "ELV-7"), "ebike_in_lift")
    ]


@pytest.mark.parametrize(
    ("before", "now", "problems", "outcome"),
    [
        ((("a.yaml", 1, 10),), (("a.yaml", 1, 10),), None, Reload.UNCHANGED),  # nothing moved
        ((("a.yaml", 1, 10),), (("a.yaml", 2, 11),), None, Reload.RELOADED),  # a valid edit
        ((("a.yaml", 1, 10),), (("a.yaml", 2, 11),), ValueError(), Reload.REFUSED),  # a bad one
        ((("a.yaml", 1, 10),), (), None, Reload.RELOADED),  # a file removed is a change too
    ],
)
def test_the_reload_decision(
    before: tuple[object, ...], now: tuple[object, ...], problems: object, outcome: Reload
) -> None:
    assert decide(before, now, problems) is outcome  # type: ignore[arg-type]
