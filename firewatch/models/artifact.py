"""Model artifacts: a fitted model's numbers, versioned, in a safe format, refused when bad.

An artifact is gzip'd JSON — a header naming the format and its version, what the model is
(name, version, kind, algorithm, training data and range, metrics, created at), its stored
calibration and its parameters — followed by nothing else: no code, no pickle, so loading one
can never run anything. Its SHA-256 is kept beside it (the `model_artifact` row) and checked
before anything is read. A corrupted document, another format, a newer format version or an
unknown algorithm is refused with an `ArtifactError` that names the artifact and the problem;
the engine then runs without that model (see `models.stage.ModelSet`).

>>> from datetime import UTC, datetime
>>> info = ArtifactInfo("fire-smoke", 1, ArtifactKind.CLASSIFIER, DeviceKind.SMOKE,
...     "gradient_boosting", datetime(2026, 5, 1, tzinfo=UTC), None, None, "example", {})
>>> raw, digest = encode(Artifact(info, {"x": 1}, Calibration(((0.0, 0.0), (1.0, 100.0)))))
>>> decode(raw, digest).info.name
'fire-smoke'
>>> decode(raw[:-3] + b"abc", digest, "fire-smoke v1")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
firewatch.models.errors.ArtifactError: model artifact fire-smoke v1 is corrupted: not gzip'd ...
"""

from __future__ import annotations

import gzip
import hashlib
import json
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Final

from firewatch.kernel.contract import DeviceKind
from firewatch.models.classifier import FireClassifier
from firewatch.models.elliptic import EllipticModel
from firewatch.models.errors import ArtifactError
from firewatch.models.forest import ForestModel
from firewatch.models.levels import Calibration

FORMAT: Final = "firewatch-model"
FORMAT_VERSION: Final = 1
Model = FireClassifier | ForestModel | EllipticModel
ALGORITHMS: Final[dict[str, type[FireClassifier] | type[ForestModel] | type[EllipticModel]]] = {
    FireClassifier.algorithm: FireClassifier,
    ForestModel.algorithm: ForestModel,
    EllipticModel.algorithm: EllipticModel,
}


class ArtifactKind(StrEnum):
    CLASSIFIER = "classifier"  # fire probability
    ANOMALY = "anomaly"  # how unusual a reading is for its kind


@dataclass(frozen=True, slots=True)
class ArtifactInfo:
    name: str  # e.g. fire-smoke, anomaly-charging
    version: int
    kind: ArtifactKind
    device_kind: DeviceKind
    algorithm: str
    created_at: datetime
    trained_from: datetime | None  # the stored history it learnt from, if any
    trained_to: datetime | None
    training_data: str  # in words: "readings 2026-05-01..2026-05-08", "simulators, seeds 101-140"
    metrics: dict[str, float]

    @property
    def label(self) -> str:
        return f"{self.name} v{self.version}"


@dataclass(frozen=True, slots=True)
class Artifact:
    info: ArtifactInfo
    params: dict[str, Any]
    calibration: Calibration


def _header(info: ArtifactInfo) -> dict[str, Any]:
    def when(t: datetime | None) -> str | None:
        return t.isoformat() if t is not None else None

    return {
        "format": FORMAT, "format_version": FORMAT_VERSION, "name": info.name,
        "version": info.version, "kind": info.kind.value, "device_kind": info.device_kind.value,
        "algorithm": info.algorithm, "created_at": info.created_at.isoformat(),
        "trained_from": when(info.trained_from), "trained_to": when(info.trained_to),
        "training_data": info.training_data, "metrics": info.metrics,
    }  # fmt: skip


def encode(artifact: Artifact) -> tuple[bytes, str]:
    """The stored document and its SHA-256 (hex) over the uncompressed JSON."""
    body = json.dumps(
        {**_header(artifact.info), "calibration": artifact.calibration.to_params(),
         "params": artifact.params},
        separators=(",", ":"), sort_keys=True, allow_nan=False,
    ).encode()  # fmt: skip
    return gzip.compress(body, mtime=0), hashlib.sha256(body).hexdigest()


def _time(value: object, what: str) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise TypeError(f"{what}: expected an RFC 3339 time")
    return datetime.fromisoformat(value)


def decode(raw: bytes, sha256: str, label: str | None = None) -> Artifact:
    """The artifact in `raw`, checked against `sha256`; ArtifactError if it cannot be used."""
    name = label or "(unnamed)"
    try:
        body = gzip.decompress(raw)
        doc = json.loads(body)
    except (OSError, EOFError, zlib.error, ValueError) as exc:
        raise ArtifactError(
            f"model artifact {label or repr(raw[:12])} is corrupted: not gzip'd JSON ({exc})"
        ) from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise ArtifactError(f"model artifact {name} is not a {FORMAT} document")
    name = label or f"{doc.get('name')} v{doc.get('version')}"
    if hashlib.sha256(body).hexdigest() != sha256:
        raise ArtifactError(f"model artifact {name} is corrupted: its SHA-256 does not match")
    version = doc.get("format_version")
    if version != FORMAT_VERSION:
        raise ArtifactError(
            f"model artifact {name} has format version {version!r}; this engine reads only "
            f"version {FORMAT_VERSION}: train it again with `firewatch models train`"
        )
    if doc.get("algorithm") not in ALGORITHMS:
        raise ArtifactError(
            f"model artifact {name} uses algorithm {doc.get('algorithm')!r}, which this engine "
            f"does not know (it knows {', '.join(sorted(ALGORITHMS))})"
        )
    try:
        info = ArtifactInfo(
            name=str(doc["name"]), version=int(doc["version"]), kind=ArtifactKind(doc["kind"]),
            device_kind=DeviceKind(doc["device_kind"]), algorithm=str(doc["algorithm"]),
            created_at=_time(doc["created_at"], "created_at") or datetime.min.replace(tzinfo=UTC),
            trained_from=_time(doc.get("trained_from"), "trained_from"),
            trained_to=_time(doc.get("trained_to"), "trained_to"),
            training_data=str(doc.get("training_data", "")),
            metrics={str(k): float(v) for k, v in dict(doc.get("metrics", {})).items()},
        )  # fmt: skip
        calibration = Calibration.from_params(doc["calibration"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ArtifactError(f"model artifact {name} is malformed: {exc}") from None
    params = doc.get("params")
    if not isinstance(params, dict):
        raise ArtifactError(f"model artifact {name} is malformed: params is not an object")
    return Artifact(info, params, calibration)


def build(artifact: Artifact) -> Model:
    """The model an artifact describes; ArtifactError if its parameters do not fit together."""
    cls = ALGORITHMS[artifact.info.algorithm]
    try:
        return cls.from_params(artifact.params)
    except (KeyError, TypeError, ValueError) as exc:
        raise ArtifactError(
            f"model artifact {artifact.info.label} has unusable parameters: {exc}"
        ) from None
