"""What a rule file says, parsed: frozen records, no behaviour.

A rule names what it listens to (`Match`), the finding it makes (type and `Params`), what the
finding is (category, level, hazard) and whom it speaks of (scope). `Params` is flat so that a
per-venue-type override is a `dataclasses.replace` of the fields it names.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from firewatch.kernel.contract import DeviceKind, Level
from firewatch.rules.evidence import Category, Scope


class RuleType(StrEnum):
    THRESHOLD = "threshold"  # a condition becomes true (an event arrives)
    RATE_OF_RISE = "rate_of_rise"  # a field rises at least so fast over a window
    PERSISTENCE = "persistence"  # a condition holds for a while
    COINCIDENCE = "coincidence"  # k criteria of one device, or k devices of a venue, together
    ABSENCE = "absence"  # a device sends nothing for k heartbeats (or its Last Will comes)
    COUNT = "count"  # n matching messages within a window
    SCAN_FAILED = "scan_failed"  # checklist items of a venue scan not ok
    UNCHANGED = "unchanged"  # a sensor repeats exactly the same values for a while (stuck)


class Source(StrEnum):
    """Which message a rule listens to."""

    READING = "reading"
    EVENT = "event"
    STATUS = "status"
    SCAN = "scan"
    OFFLINE = "offline"  # ingest's WentOffline and a device's Last Will


class Op(StrEnum):
    GE = ">="
    GT = ">"
    LE = "<="
    LT = "<"
    EQ = "=="
    NE = "!="


Value = float | bool | str


def show(value: Value | None) -> str:
    """A value as a rule file writes it: `true`, `57`, `8.3`, `charging`."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:g}"
    return "null" if value is None else str(value)


@dataclass(frozen=True, slots=True)
class Comparison:
    """`field op value`, as written (`temp_c >= 57`)."""

    field: str
    op: Op
    value: Value

    def __str__(self) -> str:
        return f"{self.field} {self.op} {show(self.value)}"


@dataclass(frozen=True, slots=True)
class Condition:
    """All of `terms` (or any of them): an empty condition always holds."""

    terms: tuple[Comparison, ...] = ()
    any_of: bool = False

    def __str__(self) -> str:
        if not self.terms:
            return "always"
        return (" or " if self.any_of else " and ").join(str(t) for t in self.terms)


@dataclass(frozen=True, slots=True)
class Rise:
    """A criterion: `field` rose by at least `by` above its lowest value of the last `within_s`."""

    field: str
    by: float
    within_s: float

    def __str__(self) -> str:
        return f"{self.field} rose {self.by:g} within {self.within_s:g} s"


Criterion = Condition | Rise


@dataclass(frozen=True, slots=True)
class TimeWindow:
    """Local time of day, minutes after midnight; `start > end` wraps past midnight."""

    start_min: int
    end_min: int

    def __str__(self) -> str:
        return "{:02d}:{:02d}-{:02d}:{:02d}".format(
            *divmod(self.start_min, 60), *divmod(self.end_min, 60)
        )


@dataclass(frozen=True, slots=True)
class Match:
    source: Source
    kinds: frozenset[DeviceKind]  # empty: every kind
    events: frozenset[str] = frozenset()  # for Source.EVENT: the event names listened to
    scan_types: frozenset[str] = frozenset()  # for Source.SCAN: empty means every type


@dataclass(frozen=True, slots=True)
class Params:
    """Everything a venue type may override. Unused fields stay at their defaults."""

    level: Level
    enabled: bool = True
    when: Condition = field(default_factory=Condition)
    during: TimeWindow | None = None
    cooldown_s: float = 0.0
    # rate_of_rise
    field: str = ""
    rate_per_min: float = 0.0
    window_s: float = 0.0  # also coincidence and count: within this window
    min_span_s: float = 0.0
    max_samples: int = 64
    # persistence, unchanged
    held_s: float = 0.0
    fields: tuple[str, ...] = ()
    # coincidence
    criteria: tuple[Criterion, ...] = ()
    need: int = 0  # criteria needed (device scope) or devices needed (venue scope)
    # count
    count: int = 0
    # absence
    heartbeats: int = 3
    last_will: bool = True


@dataclass(frozen=True, slots=True)
class Where:
    """Where a rule is written: the file and the line of its `id`."""

    file: Path
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass(frozen=True, slots=True)
class TestInput:
    """One message of a rule test, `at` seconds after the test's start."""

    at: float
    source: Source
    device_id: str
    kind: DeviceKind | None
    venue_id: str
    fields: tuple[tuple[str, Value | None], ...] = ()  # reading / status / event fields
    event: str = ""
    offline_reason: str = ""  # silent, never_seen or last_will
    scan_type: str = "inspection"
    items: tuple[tuple[str, bool], ...] = ()


@dataclass(frozen=True, slots=True)
class ExpectedHit:
    at: float
    subject: str
    level: Level | None = None
    hazard: str | None = None


@dataclass(frozen=True, slots=True)
class RuleTest:
    name: str
    line: int
    start: str  # ISO 8601 with offset
    venue_type: str | None
    heartbeat_s: int
    inputs: tuple[TestInput, ...]
    expect: tuple[ExpectedHit, ...]


@dataclass(frozen=True, slots=True)
class RuleSpec:
    id: str
    version: int
    type: RuleType
    scope: Scope
    category: Category
    description: str
    match: Match
    params: Params
    hazard: str | None = None
    venue_types: frozenset[str] | None = None  # None: every venue type
    overrides: tuple[tuple[str, Params], ...] = ()  # (venue type, its params)
    where: Where | None = field(default=None, compare=False)
    tests: tuple[RuleTest, ...] = field(default=(), compare=False)

    def params_for(self, venue_type: str | None) -> Params | None:
        """The effective parameters at a venue of this type; None where the rule is off."""
        if self.venue_types is not None and venue_type not in self.venue_types:
            return None
        params = dict(self.overrides).get(venue_type or "", self.params)
        return params if params.enabled else None
