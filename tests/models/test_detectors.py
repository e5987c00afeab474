"""One contract for every detector (STYLE.md section 7): the river-style check suite."""

from __future__ import annotations

import math

import numpy as np
import pytest

from firewatch.models.baseline import RobustBaseline
from firewatch.models.classifier import FireClassifier
from firewatch.models.detector import Detector
from firewatch.models.elliptic import EllipticModel
from firewatch.models.forest import ForestModel

NAMES = ("heat_rise", "smoke_rise", "co_rise")


def _data(seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    quiet = np.abs(rng.normal(0.0, 0.5, size=(400, 3)))
    fire = quiet[:200] + np.array([8.0, 20.0, 40.0])
    return np.vstack([quiet, fire]), np.r_[np.zeros(400), np.ones(200)]


def _fitted(name: str) -> Detector:
    x, y = _data(1)
    if name == "baseline":
        detector = RobustBaseline()
        for i, row in enumerate(x[:400]):
            detector.learn_one({"t": 60.0 * i, **dict(zip(NAMES, row.tolist(), strict=True))})
        return detector
    if name == "forest":
        return ForestModel.fit(x[:400], NAMES, trees=32, seed=1)
    if name == "elliptic":
        return EllipticModel.fit(x[:400], NAMES, seed=1)
    return FireClassifier.fit(x, y, NAMES, seed=1, trees=20)


def _fresh(name: str) -> Detector:
    detectors: dict[str, Detector] = {
        "baseline": RobustBaseline(),
        "forest": ForestModel(NAMES),
        "elliptic": EllipticModel(NAMES),
        "classifier": FireClassifier(NAMES),
    }
    return detectors[name]


DETECTORS = ["baseline", "forest", "elliptic", "classifier"]
QUIET = {"heat_rise": 0.3, "smoke_rise": 0.2, "co_rise": 0.4}
FIRE = {"heat_rise": 9.0, "smoke_rise": 25.0, "co_rise": 60.0}


@pytest.mark.parametrize("name", DETECTORS)
def test_it_has_the_detector_shape(name: str) -> None:
    assert isinstance(_fresh(name), Detector)


@pytest.mark.parametrize("name", DETECTORS)
def test_warm_up_scores_zero_and_never_raises(name: str) -> None:
    detector = _fresh(name)
    assert detector.score_one(FIRE) == 0.0
    assert detector.score_one({}) == 0.0


@pytest.mark.parametrize("name", DETECTORS)
def test_scores_are_finite_non_negative_and_order_a_fire_above_quiet(name: str) -> None:
    detector = _fitted(name)
    quiet, fire = detector.score_one(QUIET), detector.score_one(FIRE)
    assert math.isfinite(quiet) and math.isfinite(fire)
    assert 0.0 <= quiet < fire


@pytest.mark.parametrize("name", DETECTORS)
def test_scoring_is_deterministic_and_learning_one_more_does_not_break_it(name: str) -> None:
    detector = _fitted(name)
    assert detector.score_one(FIRE) == detector.score_one(FIRE)
    detector.learn_one({"t": 1e6, **QUIET})
    assert math.isfinite(detector.score_one(FIRE))


@pytest.mark.parametrize("name", DETECTORS)
def test_unknown_names_are_ignored_and_missing_ones_count_as_zero(name: str) -> None:
    detector = _fitted(name)
    assert detector.score_one({**QUIET, "firmware_field": 1e9}) == pytest.approx(
        detector.score_one(QUIET)
    )
    assert math.isfinite(detector.score_one({"heat_rise": 9.0}))


@pytest.mark.parametrize("name", ["forest", "elliptic", "classifier"])
def test_batch_scoring_matches_one_at_a_time(name: str) -> None:
    detector = _fitted(name)
    assert isinstance(detector, ForestModel | EllipticModel | FireClassifier)
    rows = np.array([[QUIET[n] for n in NAMES], [FIRE[n] for n in NAMES]])
    many = detector.score_many(rows)
    assert many.tolist() == pytest.approx([detector.score_one(QUIET), detector.score_one(FIRE)])


def test_the_forest_scores_as_scikit_learn_does() -> None:
    from sklearn.ensemble import IsolationForest

    from firewatch.models.scaling import squash

    x, _ = _data(2)
    ours = ForestModel.fit(x, NAMES, trees=40, seed=3)
    theirs = IsolationForest(n_estimators=40, max_samples=256, random_state=3).fit(squash(x))
    assert ours.score_many(x) == pytest.approx(-theirs.score_samples(squash(x)), abs=1e-6)


def test_the_classifier_scores_as_scikit_learn_does() -> None:
    from sklearn.ensemble import HistGradientBoostingClassifier

    from firewatch.models.classifier import RISING

    x, y = _data(3)
    ours = FireClassifier.fit(x, y, NAMES, seed=4, trees=15)
    theirs = HistGradientBoostingClassifier(
        max_iter=15,
        max_depth=4,
        max_leaf_nodes=16,
        learning_rate=0.15,
        l2_regularization=1.0,
        monotonic_cst=[1 if n in RISING else 0 for n in NAMES],
        early_stopping=False,
        random_state=4,
    ).fit(x, y)
    assert ours.score_many(x) == pytest.approx(theirs.predict_proba(x)[:, 1], abs=1e-6)


def test_the_classifier_never_lowers_fire_risk_as_heat_rises() -> None:
    x, y = _data(4)
    model = FireClassifier.fit(x, y, NAMES, seed=4, trees=30)
    heat = np.linspace(0, 30, 60)
    rows = np.column_stack([heat, np.full(60, 3.0), np.full(60, 5.0)])
    p = model.score_many(rows)
    assert (np.diff(p) >= -1e-12).all()
