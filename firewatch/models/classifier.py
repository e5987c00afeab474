"""The multi-sensor fire classifier: gradient-boosted trees per device kind, with reasons.

Trained offline (`models.training`) on the simulators' labelled scenarios: real fires and
thermal runaways against nuisances (cooking, steam, dust, burnt toast), troubles and normal
life. Shallow boosted trees learn what a linear model cannot — heat that rises fast with some
smoke, CO that climbs under a slow haze, off-gas from a pack that is not yet hot — and still
explain themselves: following a reading down each tree, every split moves the log-odds, and
the moves add up per feature ("heat_rate +2.1"), so each probability names the readings behind
it. Kept as complete trees (`models.trees`), so a batch scores with array arithmetic and the
artifact is plain numbers.

>>> import numpy as np
>>> rng = np.random.default_rng(11)
>>> quiet = rng.normal(0.0, 0.3, size=(300, 2)).clip(0)
>>> fire = quiet + np.array([6.0, 20.0])
>>> model = FireClassifier.fit(np.vstack([quiet, fire]), np.r_[np.zeros(300), np.ones(300)],
...                            ("heat_rise", "smoke_rise"), seed=11, trees=20)
>>> FireClassifier(("heat_rise", "smoke_rise")).score_one({"heat_rise": 9.0})  # not fitted
0.0
>>> model.score_one({"heat_rise": 0.1}) < 0.1 < 0.9 < model.score_one({"heat_rise": 7.0,
...                                                                    "smoke_rise": 18.0})
True
>>> sorted(name for name, _ in model.explain({"heat_rise": 7.0, "smoke_rise": 18.0}))
['heat_rise', 'smoke_rise']
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from firewatch.models.detector import Features
from firewatch.models.scaling import Matrix, as_row, floats
from firewatch.models.trees import CompleteTrees

RISING: Final = frozenset({
    "smoke_rise", "smoke_persist", "smoke_elevated_s", "heat_rise", "heat_rate", "co_rise",
    "co_rate", "surface_c", "voc_rise", "h2_rise", "gas_rate",
})  # fmt: skip
"""More of these never makes a fire less likely (a physical prior the trees must respect)."""
FALLING: Final = frozenset({"humidity_rise"})  # steam: wetter air is less fire-like


class _Grown:
    """One histogram-boosting tree in the shape `CompleteTrees.from_sklearn` reads."""

    def __init__(self, nodes: Any) -> None:
        leaf = nodes["is_leaf"].astype(bool)
        self.children_left = np.where(leaf, -1, nodes["left"].astype(np.int64))
        self.children_right = np.where(leaf, -1, nodes["right"].astype(np.int64))
        self.feature = nodes["feature_idx"]
        self.threshold = nodes["num_threshold"]
        self.value = nodes["value"]
        depth, stack = 0, [(0, 0)]
        while stack:  # the depth field is not kept for every node: walk the tree
            n, d = stack.pop()
            depth = max(depth, d)
            if not leaf[n]:
                stack += [(int(self.children_left[n]), d + 1), (int(self.children_right[n]), d + 1)]
        self.max_depth = depth


class FireClassifier:
    algorithm: Final = "gradient_boosting"

    def __init__(
        self,
        names: Sequence[str],
        trees: CompleteTrees | None = None,
        init: float = 0.0,
        rate: float = 0.1,
    ) -> None:
        self.names = tuple(names)
        self._trees = trees
        self._init = init
        self._rate = rate

    @property
    def fitted(self) -> bool:
        return self._trees is not None

    @classmethod
    def fit(
        cls, x: Matrix, y: npt.NDArray[np.float64], names: Sequence[str], *, seed: int = 0,
        weight: npt.NDArray[np.float64] | None = None, trees: int = 80, depth: int = 4,
        rate: float = 0.15,
    ) -> FireClassifier:  # fmt: skip
        """Fit with scikit-learn's histogram gradient boosting; probability never falls as a
        feature named in `RISING` rises, nor rises as one in `FALLING` does."""
        from sklearn.ensemble import HistGradientBoostingClassifier

        monotonic = [1 if n in RISING else -1 if n in FALLING else 0 for n in names]
        gb = HistGradientBoostingClassifier(
            max_iter=trees, max_depth=depth, max_leaf_nodes=2**depth, learning_rate=rate,
            l2_regularization=1.0, monotonic_cst=monotonic, early_stopping=False,
            random_state=seed,
        ).fit(x, y, sample_weight=weight)  # fmt: skip
        grown = [_Grown(p[0].nodes) for p in gb._predictors]
        laid = CompleteTrees.from_sklearn(
            grown, [np.arange(x.shape[1])] * len(grown),
            leaf=lambda t, n, d: float(t.value[n]), node=lambda t, n, d: float(t.value[n]),
        )  # fmt: skip
        return cls(names, laid, float(np.ravel(gb._baseline_prediction)[0]), 1.0)

    def logit_many(self, x: Matrix) -> npt.NDArray[np.float64]:
        if self._trees is None:
            return np.full(len(x), -np.inf)
        return np.asarray(self._init + self._rate * self._trees.leaf_values(x).sum(axis=1))

    def score_many(self, x: Matrix) -> npt.NDArray[np.float64]:
        """The probability of fire for each row of `x` (raw features, in `names` order)."""
        if self._trees is None:
            return np.zeros(len(x))
        return np.asarray(1.0 / (1.0 + np.exp(-np.clip(self.logit_many(x), -40.0, 40.0))))

    def learn_one(self, x: Features) -> None:
        """Offline model: learns only when trained again."""

    def score_one(self, x: Features) -> float:
        return float(self.score_many(as_row(x, self.names))[0])

    def contributions(self, row: Sequence[float]) -> list[tuple[str, float]]:
        """Each feature's share of the log-odds for one raw row, largest first."""
        if self._trees is None:
            return []
        parts = self._rate * self._trees.path_contributions(row, len(self.names))
        ranked = sorted(zip(self.names, parts.tolist(), strict=True), key=lambda p: -p[1])
        return [(name, float(v)) for name, v in ranked]

    def explain(self, x: Features) -> list[tuple[str, float]]:
        return self.contributions(as_row(x, self.names)[0].tolist())

    def to_params(self) -> dict[str, Any]:
        if self._trees is None:
            raise ValueError("an unfitted classifier has no parameters to store")
        return {"names": list(self.names), "init": self._init, "rate": self._rate,
                **self._trees.to_params()}  # fmt: skip

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> FireClassifier:
        names = [str(n) for n in params["names"]]
        init, rate = floats([params["init"], params["rate"]], "classifier init and rate", 2)
        return cls(names, CompleteTrees.from_params(params, len(names)), init, rate)
