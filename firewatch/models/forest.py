"""An isolation forest, fitted with scikit-learn and scored as complete trees (`models.trees`).

What is kept of the fitted forest is its trees' splits and each leaf's path length (depth plus
c(n) for the points left in it), so the artifact is plain numbers. Scores are the usual
`2 ** (-mean path length / c(n))`: about 0.5 for ordinary readings, towards 1 for isolated ones.

>>> import numpy as np
>>> rng = np.random.default_rng(3)
>>> normal = rng.normal(0.0, 1.0, size=(500, 2))
>>> forest = ForestModel.fit(normal, ("a", "b"), trees=50, seed=3)
>>> ForestModel(("a", "b")).score_one({"a": 9.0, "b": 9.0})  # not fitted: warm-up
0.0
>>> forest.score_one({"a": 0.0, "b": 0.0}) < 0.5 < forest.score_one({"a": 6.0, "b": -6.0})
True
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from firewatch.models.detector import Features
from firewatch.models.scaling import Matrix, as_row, squash
from firewatch.models.trees import CompleteTrees

EULER: Final = 0.5772156649


def average_path(n: float) -> float:
    """c(n): the average path length of an unsuccessful search in a binary tree of n points."""
    if n <= 1:
        return 0.0
    if n <= 2:
        return 1.0
    return 2.0 * (float(np.log(n - 1.0)) + EULER) - 2.0 * (n - 1.0) / n


class ForestModel:
    algorithm: Final = "isolation_forest"

    def __init__(
        self, names: Sequence[str], trees: CompleteTrees | None = None, samples: int = 256
    ) -> None:
        self.names = tuple(names)
        self.samples = samples
        self._trees = trees

    @property
    def fitted(self) -> bool:
        return self._trees is not None

    @classmethod
    def fit(
        cls, x: Matrix, names: Sequence[str], *, trees: int = 64, samples: int = 256,
        seed: int = 0,
    ) -> ForestModel:  # fmt: skip
        from sklearn.ensemble import IsolationForest

        model = IsolationForest(
            n_estimators=trees, max_samples=min(samples, len(x)), random_state=seed
        ).fit(squash(x))
        laid = CompleteTrees.from_sklearn(
            [e.tree_ for e in model.estimators_],
            list(model.estimators_features_),
            leaf=lambda t, n, d: d + average_path(float(t.n_node_samples[n])),
        )
        return cls(names, laid, int(model.max_samples_))

    def score_many(self, x: Matrix) -> npt.NDArray[np.float64]:
        """Anomaly scores of the rows of `x` (raw features, in `names` order)."""
        if self._trees is None:
            return np.zeros(len(x))
        mean_path = self._trees.leaf_values(squash(x)).mean(axis=1)
        return np.asarray(np.power(2.0, -mean_path / average_path(self.samples)))

    def learn_one(self, x: Features) -> None:
        """Offline model: learns only when trained again."""

    def score_one(self, x: Features) -> float:
        return float(self.score_many(as_row(x, self.names))[0])

    def to_params(self) -> dict[str, Any]:
        if self._trees is None:
            raise ValueError("an unfitted forest has no parameters to store")
        return {"names": list(self.names), "samples": self.samples, **self._trees.to_params()}

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> ForestModel:
        names = [str(n) for n in params["names"]]
        samples = params.get("samples")
        if not isinstance(samples, int) or samples < 2:
            raise ValueError("forest: samples must be an integer of at least 2")
        return cls(names, CompleteTrees.from_params(params, len(names)), samples)
