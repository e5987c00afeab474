"""Shared pieces of the rules tests: the zone, the default library, simulated runs as records."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from firewatch.ingest.decode import decode
from firewatch.ingest.records import Decoded, Rejected
from firewatch.ingest.stream import Batch
from firewatch.ingest.timestamps import DecodeLimits
from firewatch.rules.directory import Directory
from firewatch.rules.engine import RuleEngine
from firewatch.rules.evidence import Evidence
from firewatch.rules.loader import DEFAULT_DIR, Library, load_library
from firewatch.simulators.scenarios import LIBRARY, Run, compose
from tests.simulators.helpers import registry_view, world

ZONE = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 5, 1, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
NO_AGE_LIMIT = DecodeLimits(max_future_s=300, max_age_s=10**9)


@cache
def default_library() -> Library:
    return load_library(DEFAULT_DIR)


def directory_of_world() -> Directory:
    w = world(1)
    return Directory(
        {v.venue_id: v.venue_type.value for v in w.venues},
        {d.device_id: d.heartbeat_s for d in w.devices},
    )


@cache
def scenario_run(seed: int, names: tuple[str, ...] = tuple(LIBRARY)) -> Run:
    return compose(list(names), world(1), seed=seed, start=START)


def decoded(run: Run) -> list[Decoded]:
    """The run's messages as ingest decodes them, received when they were sent."""
    view = registry_view(world(1))
    out = []
    for m in run.messages:
        record = decode(m.topic, m.payload, m.at, view, NO_AGE_LIMIT)
        assert not isinstance(record, Rejected), record
        out.append(record)
    return out


def evaluate(
    records: list[Decoded], library: Library | None = None, size: int = 200
) -> list[Evidence]:
    """Records through a fresh engine in batches of `size`; the evidence found."""
    engine = RuleEngine(library or default_library(), zone=ZONE, directory=directory_of_world())
    found: list[Evidence] = []
    for n in range(0, len(records), size):
        chunk = tuple(records[n : n + size])
        found.extend(engine.evaluate(Batch(chunk, (), chunk[-1].received_at)))
    return found


def write_rules(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path
