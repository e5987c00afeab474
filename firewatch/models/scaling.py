"""The feature transform every learned model shares: a signed log, then standard scores.

Rises, rates and durations are heavy-tailed (a fire reads thousands of times the noise), so
each feature goes through `squash` (sign(x) * log1p(|x|)) before a model sees it; the
classifier and the elliptic envelope then standardise with the training mean and scale.

>>> import numpy as np
>>> squash(np.array([[0.0, -1.0, 99.0]])).round(3).tolist()
[[0.0, -0.693, 4.605]]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt

Matrix = npt.NDArray[np.float64]


def squash(x: Matrix) -> Matrix:
    return np.sign(x) * np.log1p(np.abs(x))


def as_row(x: Mapping[str, float], names: Sequence[str]) -> Matrix:
    """One observation as a 1 x F matrix in `names` order; missing names count as 0."""
    return np.array([[float(x.get(name, 0.0)) for name in names]], dtype=np.float64)


def floats(values: object, what: str, length: int | None = None) -> list[float]:
    """A list of finite floats read from an artifact, or ValueError naming `what`."""
    if not isinstance(values, list) or not all(isinstance(v, int | float) for v in values):
        raise ValueError(f"{what}: expected a list of numbers")
    out = [float(v) for v in values]
    if length is not None and len(out) != length:
        raise ValueError(f"{what}: expected {length} numbers, found {len(out)}")
    if not all(np.isfinite(out)):
        raise ValueError(f"{what}: not every number is finite")
    return out
