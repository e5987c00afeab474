"""The engine as a consumer: batching does not change what it finds, a new library keeps the
state of unchanged rules, sinks are isolated from each other, and state stays bounded."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import pytest

from firewatch.ingest.stream import Batch
from firewatch.rules.directory import Directory
from firewatch.rules.engine import RuleEngine
from firewatch.rules.evidence import Evidence
from firewatch.rules.loader import Library
from firewatch.rules.testing import reading
from tests.rules.helpers import (
    ZONE,
    decoded,
    default_library,
    directory_of_world,
    evaluate,
    scenario_run,
)
from tests.rules.test_detectors import T0


def _key(e: Evidence) -> tuple[object, ...]:
    return (e.rule_id, e.subject_id, e.at, e.hazard, e.summary)


@pytest.mark.parametrize("size", [1, 37, 100_000])
def test_batching_does_not_change_the_findings(size: int) -> None:
    records = decoded(scenario_run(1))
    reference = evaluate(records, size=500)
    assert len(reference) > 30
    assert sorted(map(_key, evaluate(records, size=size))) == sorted(map(_key, reference))


def _rising(device: str, start: int, count: int) -> list[Batch]:
    return [
        Batch((r,), (), r.received_at)
        for r in (reading(device, T0 + 5 * n, seq=n, temp_c=20.0 + n) for n in range(start, count))
    ]


def test_a_new_library_keeps_the_state_of_rules_that_did_not_change() -> None:
    library = default_library().only(["heat.rate_of_rise", "heat.fixed"])
    engine = RuleEngine(library, zone=ZONE, directory=Directory())
    found: list[Evidence] = []
    for batch in _rising("SMK-1", 0, 4):  # 15 s of a 12 °C/min rise: not judged yet
        found += engine.evaluate(batch)
    fixed = library.get("heat.fixed")
    changed = replace(fixed, params=replace(fixed.params, level=fixed.params.level), version=2)
    engine.replace(Library((library.get("heat.rate_of_rise"), changed)))
    for batch in _rising("SMK-1", 4, 10):
        found += engine.evaluate(batch)
    assert engine.generation == 2
    # The rate of rise kept its first samples across the swap: it fires 30 s after the start.
    assert [(e.rule_id, e.at.timestamp() - T0) for e in found] == [("heat.rate_of_rise", 30.0)]


def test_a_changed_rule_starts_empty() -> None:
    library = default_library().only(["heat.rate_of_rise"])
    engine = RuleEngine(library, zone=ZONE, directory=Directory())
    found: list[Evidence] = []
    for batch in _rising("SMK-1", 0, 4):
        found += engine.evaluate(batch)
    rate = library.get("heat.rate_of_rise")
    engine.replace(Library((replace(rate, version=2),)))
    for batch in _rising("SMK-1", 4, 12):
        found += engine.evaluate(batch)
    # Version 2 saw its first sample at 20 s and needs 30 s of samples: it fires at 50 s.
    assert [(e.rule_version, e.at.timestamp() - T0) for e in found] == [(2, 50.0)]


def test_every_sink_gets_the_evidence_even_when_one_fails() -> None:
    got: list[Evidence] = []

    def broken(_evidence: Sequence[Evidence]) -> None:
        raise RuntimeError("the disk is full")

    library = default_library().only(["heat.fixed"])
    engine = RuleEngine(library, zone=ZONE, sinks=[broken, got.extend])
    engine.consume(Batch((reading("SMK-1", T0, temp_c=60.0),), (), reading("S", T0).ts))
    assert [e.rule_id for e in got] == ["heat.fixed"]


def _quiet_stream(devices: int, minutes: int) -> list[Batch]:
    """Detectors reporting once a minute in quiet rooms, with a little noise."""
    out = []
    for m in range(minutes):
        records = tuple(
            reading(
                f"SMK-{d:04d}",
                T0 + 60 * m + d * 0.01,
                venue=f"V-{d // 10}",
                seq=m,
                smoke_obs=0.1 + 0.01 * ((m + d) % 5),
                temp_c=22.0 + 0.1 * ((m * 7 + d) % 3),
                co_ppm=float((m + d) % 3),
                alarm=False,
            )
            for d in range(devices)
        )
        out.append(Batch(records, (), records[-1].received_at))
    return out


STATE_BYTES_PER_DEVICE = 1500
"""The stated bound of evaluation state per smoke detector under the default library."""


def test_state_per_device_is_bounded_and_does_not_grow_with_time() -> None:
    devices = 200
    engine = RuleEngine(default_library(), zone=ZONE, directory=Directory())
    sizes = []
    for n, batch in enumerate(_quiet_stream(devices, 180)):
        assert engine.evaluate(batch) == []
        if n in (59, 179):  # after one hour and after three
            sizes.append(engine.state_bytes() / devices)
    one_hour, three_hours = sizes
    assert three_hours <= STATE_BYTES_PER_DEVICE
    assert three_hours <= one_hour * 1.05  # bounded: more time, not more state
    each = [engine.state_bytes_of(f"SMK-{d:04d}") for d in range(devices)]
    assert 0 < max(each) <= STATE_BYTES_PER_DEVICE


def test_state_of_a_whole_simulated_day_stays_small() -> None:
    records = decoded(scenario_run(1))
    engine = RuleEngine(default_library(), zone=ZONE, directory=directory_of_world())
    for n in range(0, len(records), 500):
        chunk = tuple(records[n : n + 500])
        engine.evaluate(Batch(chunk, (), chunk[-1].received_at))
    devices = {getattr(r, "device_id", None) for r in records} - {None}
    assert engine.state_bytes() / len(devices) <= STATE_BYTES_PER_DEVICE * 2
    assert engine.describe()["rules"] == len(default_library().rules)


def test_an_unknown_venue_type_uses_the_rules_own_parameters() -> None:
    library: Library = default_library().only(["heat.rate_of_rise"])
    kitchen = RuleEngine(library, zone=ZONE, directory=Directory({"V-1": "small_restaurant"}))
    unknown = RuleEngine(library, zone=ZONE, directory=Directory({}))
    rise = [reading("SMK-1", T0 + 5 * n, temp_c=20.0 + n * 0.85) for n in range(10)]  # 10.2/min
    hits = [sum(len(e.evaluate(Batch((r,), (), r.ts))) for r in rise) for e in (kitchen, unknown)]
    assert hits == [0, 1]
