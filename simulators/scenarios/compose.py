"""Several scenarios on one timeline: distinct venues, staggered starts, night ones at night.

>>> from datetime import UTC, datetime
>>> from simulators.subdistrict import generate
>>> run = compose(["flaming_fire"], generate(1), seed=1, start=datetime(2026, 5, 1, tzinfo=UTC))
>>> run.truths[0].expected, len(run.messages) > 20
(<Outcome.ALARM: 'alarm'>, True)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final
from zoneinfo import ZoneInfo

from simulators.records import GroundTruth, Message
from simulators.scenarios.context import Catalogue, Context
from simulators.scenarios.library import LIBRARY
from simulators.subdistrict import Subdistrict

STAGGER_S: Final = 60.0  # daytime scenarios start a minute apart, so incidents overlap
ALL: Final = "all"
SHANGHAI: Final = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True, slots=True)
class Run:
    """A run's traffic in publication order, and the ground truth of each of its scenarios."""

    messages: tuple[Message, ...]
    truths: tuple[GroundTruth, ...]

    @property
    def start(self) -> datetime:
        return min(t.start for t in self.truths)

    @property
    def end(self) -> datetime:
        return max([t.end for t in self.truths] + [m.at for m in self.messages[-1:]])


def resolve(name: str) -> list[str]:
    """The scenario names `name` stands for: itself, or every one for `all`."""
    if name == ALL:
        return list(LIBRARY)
    if name not in LIBRARY:
        raise LookupError(f"no scenario {name!r}: expected all or one of {', '.join(LIBRARY)}")
    return [name]


def compose(
    names: Sequence[str],
    world: Subdistrict,
    *,
    seed: int,
    start: datetime,
    zone: ZoneInfo = SHANGHAI,
) -> Run:
    """The scenarios `names` from `start` (aware); the same arguments give the same bytes."""
    if start.tzinfo is None:
        raise ValueError("compose: start must be timezone-aware")
    catalogue = Catalogue(world)
    taken: set[str] = set()
    scripts = []
    for index, name in enumerate(names):
        spec = LIBRARY[name]
        begin = start + timedelta(seconds=index * STAGGER_S)
        ctx = Context(catalogue, seed=seed, name=name, start=begin, taken=taken, zone=zone)
        if spec.local_start is not None:
            ctx.start = ctx.local(start, *spec.local_start)
        scripts.append(spec.build(ctx))
    # A stable sort: messages of the same moment keep their scenario's order.
    messages = sorted((m for s in scripts for m in s.messages), key=lambda m: m.at)
    return Run(tuple(messages), tuple(s.truth for s in scripts))
