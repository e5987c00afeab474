"""One fire-risk score, 0-100, with its reasons: the fusion of rule evidence and model scores.

Every source speaks in points (see `models.levels`): the fire classifier through its stored
calibration, the anomaly model and the per-device baselines capped at yellow (an unusual
reading is worth a look, never a fire call by itself), the detector's own alarm at yellow, and
each rule's evidence at its level — except trouble, which is kept at blue: a dead battery never
raises fire risk. A device's score is the strongest source's points, plus a bonus when a source
of another family agrees at yellow or above (corroboration); an orange fire rule that the
classifier finds nothing like a fire behind is held just below orange, with no corroboration
bonus (nuisance damping; red evidence is never held). A venue's score is its strongest
device's, plus a bonus when two or more of its devices are raised, and its standing hazards
(open cases, failed scan items, an overdue inspection) count up to yellow on their own.

Each decision returns its `Basis`, stored with the score, and the reasons sorted by points.

>>> from datetime import UTC, datetime
>>> model = Reason(Source.CLASSIFIER, "fire-smoke", 3, 72, "p=0.93: heat_rate +2.1")
>>> alarm = Reason(Source.DEVICE, "SMK-1", None, DEVICE_ALARM_POINTS, "detector in alarm")
>>> device_risk([model, alarm])[:2]
(82, <Basis.CORROBORATED: 'corroborated'>)
>>> device_risk([alarm])[:2]
(40, <Basis.SINGLE: 'single'>)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Final

from firewatch.kernel.contract import Level
from firewatch.models.levels import ORANGE_AT, YELLOW_AT, level_of
from firewatch.rules.evidence import Category, Evidence, ReadingRef, Scope

DEVICE_ALARM_POINTS: Final = 40  # the detector's own alarm, uncorroborated: yellow
CORROBORATION_BONUS: Final = 10
VENUE_SPREAD_BONUS: Final = 10  # two or more devices of one venue raised at once
HELD_POINTS: Final = ORANGE_AT - 5  # where a damped orange rule is held
DAMP_BELOW: Final = YELLOW_AT  # classifier points under which an orange fire rule is damped
STANDING_CAP: Final = 50  # static hazards alone reach yellow, never orange
RULE_POINTS: Final = {Level.RED: 90, Level.ORANGE: 70, Level.YELLOW: 45, Level.BLUE: 20}
TROUBLE_CAP: Final = 20
INSPECTION_DAYS: Final = {1: 31, 2: 92, 3: 183}  # tier 1 monthly, 2 quarterly, 3 half-yearly


class Source(StrEnum):
    CLASSIFIER = "classifier"
    ANOMALY = "anomaly"
    BASELINE = "baseline"
    RULE = "rule"
    DEVICE = "device"  # the device's own report (its alarm flag)
    HAZARD = "hazard"  # a venue's standing hazards
    VENUE = "venue"  # a device's score, as a reason of its venue's


_FAMILY: Final = {
    Source.CLASSIFIER: "model", Source.ANOMALY: "deviation", Source.BASELINE: "deviation",
    Source.RULE: "rule", Source.DEVICE: "device", Source.HAZARD: "standing",
    Source.VENUE: "device",
}  # fmt: skip


class Basis(StrEnum):
    """Why a score is what it is: stored with it."""

    NONE = "none"  # nothing raised: every source at 0
    SINGLE = "single"  # the strongest source alone
    CORROBORATED = "corroborated"  # a source of another family agrees at yellow or above
    HELD = "held"  # an orange fire rule held below orange: the classifier sees no fire
    SPREAD = "spread"  # several devices of the venue raised at once


@dataclass(frozen=True, slots=True)
class Reason:
    source: Source
    name: str  # model name, rule id, metric, device id or hazard
    version: int | None  # model or rule version
    points: int
    detail: str
    readings: tuple[ReadingRef, ...] = ()


@dataclass(frozen=True, slots=True)
class RiskScore:
    scope: Scope  # device, venue or community
    subject_id: str
    venue_id: str | None  # None for a community
    community: str
    at: datetime  # device time of the latest input behind it
    score: int  # 0-100
    level: Level
    basis: Basis
    reasons: tuple[Reason, ...]


def rule_points(evidence: Evidence) -> int:
    points = RULE_POINTS[evidence.level]
    return min(points, TROUBLE_CAP) if evidence.category == Category.TROUBLE else points


def rule_reason(evidence: Evidence, classifier_points: int | None) -> tuple[Reason, bool]:
    """A rule's evidence as a reason; True when it was held below orange by the classifier."""
    points = rule_points(evidence)
    held = (
        classifier_points is not None
        and classifier_points < DAMP_BELOW
        and evidence.category == Category.FIRE
        and evidence.level == Level.ORANGE
    )
    detail = evidence.summary
    if held:
        points = HELD_POINTS
        detail += f" (held below orange: the fire classifier gives {classifier_points} points)"
    return Reason(Source.RULE, evidence.rule_id, evidence.rule_version, points, detail,
                  evidence.readings), held  # fmt: skip


def device_risk(reasons: Sequence[Reason], held: bool = False) -> tuple[int, Basis, Level]:
    """Points, basis and level of one device from its sources' reasons."""
    return device_points([(r.source, r.points) for r in reasons], held)


def device_points(
    parts: Sequence[tuple[Source, int]], held: bool = False
) -> tuple[int, Basis, Level]:
    """`device_risk` on (source, points) pairs: the hot path, before any reason is written."""
    top_source, top = Source.DEVICE, 0
    for source, points in parts:
        if points > top:
            top_source, top = source, points
    if top <= 0:
        return 0, Basis.NONE, Level.BLUE
    if held and top_source == Source.RULE:
        # A held rule stays held: the detector's alarm or a deviation behind it is the same
        # smoke the classifier already judged, not a second opinion.
        return top, Basis.HELD, level_of(top)
    if top >= YELLOW_AT:
        family = _FAMILY[top_source]
        if any(p >= YELLOW_AT and _FAMILY[s] != family for s, p in parts):
            score = min(100, top + CORROBORATION_BONUS)
            return score, Basis.CORROBORATED, level_of(score)
    basis = Basis.HELD if held and top_source == Source.RULE else Basis.SINGLE
    return top, basis, level_of(top)


@dataclass(frozen=True, slots=True)
class VenueHazards:
    """What a venue carries besides its devices' readings."""

    failed_items: tuple[str, ...] = ()  # from its latest inspection or self-check scan
    open_cases: int = 0
    category: int | None = None  # inspection tier, from the registry
    last_inspection: datetime | None = None


def standing_reasons(hazards: VenueHazards, now: datetime) -> list[Reason]:
    """Open cases, failed scan items and an overdue inspection, as reasons (yellow at most).

    >>> from datetime import UTC, datetime
    >>> now = datetime(2026, 5, 1, tzinfo=UTC)
    >>> [r.points for r in standing_reasons(VenueHazards(("exits_unlocked",), 2, 2,
    ...     datetime(2025, 12, 1, tzinfo=UTC)), now)]
    [8, 16, 11]
    """
    out = []
    if hazards.failed_items:
        points = min(40, 8 * len(hazards.failed_items))
        out.append(Reason(Source.HAZARD, "failed_items", None, points,
                          "failed scan items: " + ", ".join(hazards.failed_items)))  # fmt: skip
    if hazards.open_cases:
        points = min(32, 8 * hazards.open_cases)
        out.append(Reason(Source.HAZARD, "open_cases", None, points,
                          f"{hazards.open_cases} open hazard case(s)"))  # fmt: skip
    due = INSPECTION_DAYS.get(hazards.category or 0)
    if due is not None and hazards.last_inspection is not None:
        late = (now - hazards.last_inspection).days - due
        if late > 0:
            points = min(20, 10 + late // 30)
            out.append(Reason(Source.HAZARD, "inspection_overdue", None, points,
                              f"inspection overdue by {late} days"))  # fmt: skip
    return out


def venue_risk(devices: Sequence[Reason], standing: Sequence[Reason]) -> tuple[int, Basis, Level]:
    """Points, basis and level of a venue from its devices' scores and standing hazards.

    >>> a = Reason(Source.VENUE, "SMK-1", None, 62, "")
    >>> b = Reason(Source.VENUE, "SMK-2", None, 41, "")
    >>> venue_risk([a, b], [])[:2], venue_risk([a], [])[:2]
    ((72, <Basis.SPREAD: 'spread'>), (62, <Basis.SINGLE: 'single'>))
    """
    dynamic = max((r.points for r in devices), default=0)
    fixed = min(STANDING_CAP, sum(r.points for r in standing))
    raised = sum(1 for r in devices if r.points >= YELLOW_AT)
    basis = Basis.SINGLE
    if raised >= 2:
        dynamic, basis = min(100, dynamic + VENUE_SPREAD_BONUS), Basis.SPREAD
    score = max(dynamic, fixed)
    if dynamic >= YELLOW_AT and fixed >= 20:
        score, basis = min(100, score + 5), Basis.CORROBORATED
    if score <= 0:
        return 0, Basis.NONE, Level.BLUE
    return score, basis, level_of(score)
