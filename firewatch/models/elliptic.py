"""A robust elliptic envelope: the other anomaly model the training evaluation may choose.

Fitted with scikit-learn's minimum covariance determinant (`MinCovDet`) on squashed,
standardised features; kept as a centre and a precision matrix. The score is the robust
Mahalanobis distance: about sqrt(F) for ordinary readings, far more for unusual combinations.

>>> import numpy as np
>>> rng = np.random.default_rng(5)
>>> data = rng.normal(0.0, 1.0, size=(400, 2))
>>> model = EllipticModel.fit(data, ("a", "b"), seed=5)
>>> EllipticModel(("a", "b")).score_one({"a": 9.0})  # not fitted: warm-up
0.0
>>> model.score_one({"a": 0.1, "b": 0.0}) < 2 < model.score_one({"a": 5.0, "b": -5.0})
True
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from firewatch.models.detector import Features
from firewatch.models.scaling import Matrix, as_row, floats, squash


class EllipticModel:
    algorithm: Final = "elliptic_envelope"

    def __init__(
        self,
        names: Sequence[str],
        centre: npt.NDArray[np.float64] | None = None,
        precision: Matrix | None = None,
    ) -> None:
        self.names = tuple(names)
        self._centre = centre
        self._precision = precision

    @property
    def fitted(self) -> bool:
        return self._centre is not None

    @classmethod
    def fit(cls, x: Matrix, names: Sequence[str], *, seed: int = 0) -> EllipticModel:
        from sklearn.covariance import MinCovDet

        data = squash(x)
        # A feature that never moves (no CO cell anywhere) would make the covariance singular.
        jitter = np.random.default_rng(seed).normal(0.0, 1e-3, size=data.shape)
        mcd = MinCovDet(random_state=seed, support_fraction=0.9).fit(data + jitter)
        precision = np.linalg.pinv(mcd.covariance_ + 1e-6 * np.eye(data.shape[1]))
        return cls(names, np.asarray(mcd.location_, dtype=np.float64), precision)

    def score_many(self, x: Matrix) -> npt.NDArray[np.float64]:
        if self._centre is None or self._precision is None:
            return np.zeros(len(x))
        d = squash(x) - self._centre
        return np.asarray(np.sqrt(((d @ self._precision) * d).sum(axis=1).clip(0)))

    def learn_one(self, x: Features) -> None:
        """Offline model: learns only when trained again."""

    def score_one(self, x: Features) -> float:
        return float(self.score_many(as_row(x, self.names))[0])

    def to_params(self) -> dict[str, Any]:
        if self._centre is None or self._precision is None:
            raise ValueError("an unfitted envelope has no parameters to store")
        return {
            "names": list(self.names),
            "centre": self._centre.tolist(),
            "precision": self._precision.tolist(),
        }

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> EllipticModel:
        names = [str(n) for n in params["names"]]
        centre = np.array(floats(params["centre"], "envelope centre", len(names)))
        rows = params["precision"]
        if not isinstance(rows, list) or len(rows) != len(names):
            raise ValueError(f"envelope precision: expected {len(names)} rows")
        precision = np.array([floats(r, "envelope precision", len(names)) for r in rows])
        return cls(names, centre, precision)
