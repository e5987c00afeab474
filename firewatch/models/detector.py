"""The one shape every detector has (STYLE.md section 7, after river's anomaly detectors).

`learn_one(x)` takes one observation, `score_one(x)` says how anomalous (or how fire-like) it
is: a finite number >= 0, higher is worse, and exactly 0 while the detector is still warming up
or has not been fitted. Models fitted offline with scikit-learn (the forest, the elliptic
envelope, the fire classifier) score through the same protocol; their `learn_one` does nothing,
since they learn only when trained again. Turning a score into a level is a separate wrapper
(`models.levels.Calibration`), never the detector's own business.

An observation is a mapping of feature names to floats; a name the detector does not know is
ignored and a name it needs but is missing counts as 0.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol, runtime_checkable

Features = Mapping[str, float]


@runtime_checkable
class Detector(Protocol):
    def learn_one(self, x: Features) -> None:
        """Take one observation into the detector's state (a no-op for offline models)."""
        ...

    def score_one(self, x: Features) -> float:
        """How anomalous `x` is: >= 0, higher is worse, 0 during warm-up."""
        ...
