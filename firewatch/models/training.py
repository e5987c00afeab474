"""Training: the fire classifier from the simulators' scenarios, anomaly models from history.

- `train_classifier(kind, seeds)`: gradient-boosted trees on the labelled library
  (`models.labels`), each scenario's fire and non-fire rows weighted alike so that a long
  smoulder does not drown a short cooking episode; scored on held-out seeds (average
  precision, fire rows reaching orange, nuisance rows reaching orange).
- `train_anomaly(kind, history, validation)`: an isolation forest and a robust elliptic
  envelope both fitted on stored readings of one device kind; the one with the higher average
  precision on the labelled library (fire rows against the rest) is kept, and both figures go
  into the artifact. Its calibration maps the 99th percentile of the history's scores to 0
  points and the 99.99th to yellow: an unusual reading never says more than "look at this".
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Final

import numpy as np
import numpy.typing as npt

from firewatch.kernel.contract import DeviceKind
from firewatch.models.artifact import Artifact, ArtifactInfo, ArtifactKind
from firewatch.models.classifier import FireClassifier
from firewatch.models.elliptic import EllipticModel
from firewatch.models.features import FEATURES
from firewatch.models.forest import ForestModel
from firewatch.models.labels import Labelled, labelled
from firewatch.models.levels import ORANGE_AT, Calibration
from firewatch.models.scaling import Matrix

CLASSIFIER_KNOTS: Final = ((0.0, 0.0), (0.3, 20.0), (0.5, 35.0), (0.8, 60.0), (0.95, 80.0),
                           (1.0, 100.0))  # fmt: skip
"""Fire probability to points: yellow from 0.5, orange from 0.8, red from 0.95."""
TRAIN_SEEDS: Final = tuple(range(101, 141))
HELD_OUT_SEEDS: Final = tuple(range(201, 206))
NUISANCES: Final = ("cooking_fumes", "shower_steam", "dust_and_insects", "test_and_hush")
MAX_HISTORY_ROWS: Final = 200_000


def scenario_weights(data: Labelled) -> npt.NDArray[np.float64]:
    """Every (scenario, label) group of rows weighs the same in total."""
    groups = Counter(zip(data.scenarios, data.y.tolist(), strict=True))
    return np.array(
        [len(data.y) / (len(groups) * groups[(s, y)])
         for s, y in zip(data.scenarios, data.y.tolist(), strict=True)]
    )  # fmt: skip


def _average_precision(y: npt.NDArray[np.float64], score: npt.NDArray[np.float64]) -> float:
    from sklearn.metrics import average_precision_score

    return float(average_precision_score(y, score)) if y.any() and not y.all() else 0.0


def classifier_metrics(
    model: FireClassifier, calibration: Calibration, test: Labelled
) -> dict[str, float]:
    p = model.score_many(test.x)
    points = calibration.points_many(p)
    fire = test.y == 1
    nuisance = np.array([s in NUISANCES for s in test.scenarios])
    out = {
        "average_precision": round(_average_precision(test.y, p), 4),
        "fire_rows_orange": round(float((points[fire] >= ORANGE_AT).mean()), 4),
        "test_rows": float(len(test.y)),
    }
    if nuisance.any():
        out["nuisance_rows_orange"] = round(float((points[nuisance] >= ORANGE_AT).mean()), 5)
    return out


def train_classifier(
    kind: DeviceKind, created_at: datetime, *, seeds: Sequence[int] = TRAIN_SEEDS,
    held_out: Sequence[int] = HELD_OUT_SEEDS, data: dict[DeviceKind, Labelled] | None = None,
    test: dict[DeviceKind, Labelled] | None = None,
) -> Artifact:  # fmt: skip
    """A fire classifier for one device kind, from the simulators' scenario library."""
    train = (data or labelled(seeds))[kind]
    model = FireClassifier.fit(train.x, train.y, FEATURES[kind], seed=min(seeds),
                               weight=scenario_weights(train))  # fmt: skip
    calibration = Calibration(CLASSIFIER_KNOTS)
    metrics = classifier_metrics(model, calibration, (test or labelled(held_out))[kind])
    metrics["train_rows"] = float(len(train.y))
    info = ArtifactInfo(
        name=f"fire-{kind}", version=1, kind=ArtifactKind.CLASSIFIER, device_kind=kind,
        algorithm=FireClassifier.algorithm, created_at=created_at, trained_from=None,
        trained_to=None, metrics=metrics,
        training_data=f"simulators: scenario library, seeds {min(seeds)}-{max(seeds)}; "
        f"held out {min(held_out)}-{max(held_out)}",
    )  # fmt: skip
    return Artifact(info, model.to_params(), calibration)


def anomaly_calibration(scores: npt.NDArray[np.float64]) -> Calibration:
    low = float(np.quantile(scores, 0.99))
    high = max(float(np.quantile(scores, 0.9999)), low + 1e-6)
    return Calibration(((low, 0.0), (high, 35.0), (high + (high - low) + 1e-6, 45.0)))


def train_anomaly(
    kind: DeviceKind, history: Matrix, validation: Labelled, created_at: datetime, *,
    trained_from: datetime | None, trained_to: datetime | None, source: str, seed: int = 0,
) -> Artifact:  # fmt: skip
    """The better of an isolation forest and an elliptic envelope for one device kind."""
    if len(history) < 50:
        raise ValueError(
            f"only {len(history)} {kind} readings to learn from: at least 50 are needed"
        )
    rng = np.random.default_rng(seed)
    if len(history) > MAX_HISTORY_ROWS:
        history = history[rng.choice(len(history), MAX_HISTORY_ROWS, replace=False)]
    names = FEATURES[kind]
    candidates: list[ForestModel | EllipticModel] = [
        ForestModel.fit(history, names, seed=seed),
        EllipticModel.fit(history[: min(len(history), 20_000)], names, seed=seed),
    ]
    scored = {c.algorithm: _average_precision(validation.y, c.score_many(validation.x))
              for c in candidates}  # fmt: skip
    best = max(candidates, key=lambda c: scored[c.algorithm])
    metrics = {f"average_precision_{name}": round(ap, 4) for name, ap in scored.items()}
    metrics["history_rows"] = float(len(history))
    info = ArtifactInfo(
        name=f"anomaly-{kind}",
        version=1,
        kind=ArtifactKind.ANOMALY,
        device_kind=kind,
        algorithm=best.algorithm,
        created_at=created_at,
        trained_from=trained_from,
        trained_to=trained_to,
        training_data=source,
        metrics=metrics,
    )
    return Artifact(info, best.to_params(), anomaly_calibration(best.score_many(history)))


def with_version(artifact: Artifact, version: int) -> Artifact:
    return replace(artifact, info=replace(artifact.info, version=version))
