"""From scores to points (0-100) and from points to the four warning levels (红橙黄蓝).

A detector's score means nothing to an operator; points do, and every source of risk speaks
in them. `Calibration` is the wrapper that turns one detector's raw score into points: a
piecewise-linear map through knots fixed when the model is trained (and stored with it), so
that the same probability always means the same points. `level_of` is the one mapping of
points to levels.

>>> level_of(91), level_of(60), level_of(35), level_of(12)
(<Level.RED: 'red'>, <Level.ORANGE: 'orange'>, <Level.YELLOW: 'yellow'>, <Level.BLUE: 'blue'>)
>>> classifier = Calibration(((0.0, 0.0), (0.5, 35.0), (0.8, 60.0), (0.95, 80.0), (1.0, 100.0)))
>>> classifier.points(0.2), classifier.points(0.875), classifier.points(1.0)
(14.0, 70.0, 100.0)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from firewatch.kernel.contract import Level

RED_AT: Final = 80
ORANGE_AT: Final = 60
YELLOW_AT: Final = 35


def level_of(points: float) -> Level:
    if points >= RED_AT:
        return Level.RED
    if points >= ORANGE_AT:
        return Level.ORANGE
    if points >= YELLOW_AT:
        return Level.YELLOW
    return Level.BLUE


@dataclass(frozen=True, slots=True)
class Calibration:
    """Knots (score, points), scores increasing; flat beyond the first and the last."""

    knots: tuple[tuple[float, float], ...]

    def __post_init__(self) -> None:
        scores = [k[0] for k in self.knots]
        if len(self.knots) < 2 or scores != sorted(scores):
            raise ValueError("calibration: expected two or more knots in increasing score order")
        if not all(0.0 <= k[1] <= 100.0 for k in self.knots):
            raise ValueError("calibration: points must lie within 0..100")

    def points(self, score: float) -> float:
        return float(self.points_many(np.array([score]))[0])

    def points_many(self, scores: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        xs = [k[0] for k in self.knots]
        ys = [k[1] for k in self.knots]
        return np.asarray(np.interp(scores, xs, ys), dtype=np.float64)

    def to_params(self) -> list[list[float]]:
        return [[s, p] for s, p in self.knots]

    @classmethod
    def from_params(cls, knots: Sequence[Sequence[float]]) -> Calibration:
        if not isinstance(knots, list) or not all(
            isinstance(k, list) and len(k) == 2 and all(isinstance(v, int | float) for v in k)
            for k in knots
        ):
            raise ValueError("calibration: expected a list of [score, points] pairs")
        return cls(tuple((float(s), float(p)) for s, p in knots))
