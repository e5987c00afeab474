"""Fusion decisions are pure functions with a named basis: one table-driven test each."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from firewatch.kernel.contract import Level
from firewatch.models.fusion import (
    Basis,
    Reason,
    Source,
    device_risk,
    rule_reason,
    venue_risk,
)
from firewatch.rules.evidence import Category, Evidence, Scope

T = datetime(2026, 5, 1, 2, 0, tzinfo=UTC)


def r(source: Source, points: int, name: str = "x") -> Reason:
    return Reason(source, name, None, points, "")


def ev(level: Level, category: Category = Category.FIRE) -> Evidence:
    return Evidence(
        "smoke.alarm",
        2,
        category,
        level,
        Scope.DEVICE,
        "SMK-1",
        "V-1",
        ("SMK-1",),
        T,
        "smoke alarm at SMK-1",
        (),
    )


@pytest.mark.parametrize(
    ("reasons", "held", "score", "basis", "level"),
    [
        # nothing at all: blue, no basis
        ([], False, 0, Basis.NONE, Level.BLUE),
        # the detector's own alarm alone is worth a look, not a fire call
        ([r(Source.DEVICE, 40)], False, 40, Basis.SINGLE, Level.YELLOW),
        # the classifier alone at orange stays orange
        ([r(Source.CLASSIFIER, 65)], False, 65, Basis.SINGLE, Level.ORANGE),
        # classifier orange and the detector's alarm agree: +10, corroborated
        (
            [r(Source.CLASSIFIER, 65), r(Source.DEVICE, 40)],
            False,
            75,
            Basis.CORROBORATED,
            Level.ORANGE,
        ),
        # baseline and anomaly are one family: they do not corroborate each other
        ([r(Source.BASELINE, 45), r(Source.ANOMALY, 40)], False, 45, Basis.SINGLE, Level.YELLOW),
        # a red rule is red whatever else says
        ([r(Source.RULE, 90), r(Source.CLASSIFIER, 0)], False, 90, Basis.SINGLE, Level.RED),
        # a held rule is named as held
        ([r(Source.RULE, 55)], True, 55, Basis.HELD, Level.YELLOW),
        # ... and the detector's alarm behind it does not lift it back to orange
        ([r(Source.RULE, 55), r(Source.DEVICE, 40)], True, 55, Basis.HELD, Level.YELLOW),
        # corroboration never goes past 100
        ([r(Source.RULE, 95), r(Source.CLASSIFIER, 96)], False, 100, Basis.CORROBORATED, Level.RED),
    ],
)
def test_device_risk(
    reasons: list[Reason], held: bool, score: int, basis: Basis, level: Level
) -> None:
    assert device_risk(reasons, held) == (score, basis, level)


@pytest.mark.parametrize(
    ("evidence", "classifier", "points", "held"),
    [
        # red fire evidence is never held, even with a classifier that sees nothing
        (ev(Level.RED), 0, 90, False),
        # orange fire evidence with no classifier loaded: as the rule says
        (ev(Level.ORANGE), None, 70, False),
        # orange fire evidence the classifier finds no fire behind: held below orange
        (ev(Level.ORANGE), 5, 55, True),
        # orange fire evidence with a classifier that agrees: kept
        (ev(Level.ORANGE), 40, 70, False),
        # trouble never raises fire risk past blue, whatever its level
        (ev(Level.RED, Category.TROUBLE), None, 20, False),
        # a hazard at yellow stays yellow
        (ev(Level.YELLOW, Category.HAZARD), 0, 45, False),
    ],
)
def test_rule_reason(evidence: Evidence, classifier: int | None, points: int, held: bool) -> None:
    reason, was_held = rule_reason(evidence, classifier)
    assert (reason.points, was_held) == (points, held)
    assert reason.name == "smoke.alarm" and reason.version == 2


@pytest.mark.parametrize(
    ("devices", "standing", "score", "basis"),
    [
        # no devices, no hazards
        ([], [], 0, Basis.NONE),
        # one raised device carries the venue
        ([r(Source.VENUE, 62)], [], 62, Basis.SINGLE),
        # two devices raised at once: spread bonus
        ([r(Source.VENUE, 62), r(Source.VENUE, 40)], [], 72, Basis.SPREAD),
        # standing hazards alone reach yellow, never past the cap of 50
        ([], [r(Source.HAZARD, 30), r(Source.HAZARD, 32)], 50, Basis.SINGLE),
        # a raised device at a venue with open hazards: +5
        ([r(Source.VENUE, 40)], [r(Source.HAZARD, 24)], 45, Basis.CORROBORATED),
    ],
)
def test_venue_risk(
    devices: list[Reason], standing: list[Reason], score: int, basis: Basis
) -> None:
    assert venue_risk(devices, standing)[:2] == (score, basis)
