"""What models/ keeps in PostgreSQL: artifacts (`model_artifact`) and scores (`risk_score`).

Also the one read of another stage's table it needs: stored readings of one device kind over
a time range, for training the anomaly models (`firewatch models train --kind smoke|charging`).

Loading at start-up (`load_models`) takes the newest version of every artifact name; one that
is corrupted, of an unknown format version or algorithm, or whose numbers do not fit together is
refused — logged with its name and the reason — and the engine goes on without it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any, Final

import psycopg

from firewatch.ingest.records import Reading
from firewatch.kernel.contract import DeviceKind
from firewatch.models.artifact import (
    FORMAT_VERSION,
    Artifact,
    ArtifactInfo,
    ArtifactKind,
    build,
    decode,
    encode,
)
from firewatch.models.errors import ArtifactError
from firewatch.models.features import FeatureTracker
from firewatch.models.fusion import RiskScore, VenueHazards
from firewatch.models.scaling import Matrix
from firewatch.models.stage import Loaded, ModelSet
from firewatch.models.training import with_version

log = logging.getLogger("firewatch.models")

_READING_COLUMNS: Final = (
    "ts", "received_at", "device_id", "kind", "venue_id", "seq", "smoke_obs", "temp_c",
    "co_ppm", "humidity_pct", "alarm", "port", "state", "current_a", "voltage_v", "power_w",
    "energy_wh", "h2_ppm", "voc_ppm",
)  # fmt: skip


def save(conn: psycopg.Connection, artifact: Artifact) -> Artifact:
    """Store `artifact` as the next version of its name; the artifact as stored."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (artifact.info.name,))
        row = conn.execute(
            "SELECT coalesce(max(version), 0) FROM model_artifact WHERE name = %s",
            (artifact.info.name,),
        ).fetchone()
        stored = with_version(artifact, int(row[0]) + 1 if row else 1)
        document, digest = encode(stored)
        i = stored.info
        conn.execute(
            "INSERT INTO model_artifact (name, version, kind, device_kind, algorithm,"
            " format_version, created_at, trained_from, trained_to, training_data, metrics,"
            " document, sha256) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (i.name, i.version, i.kind.value, i.device_kind.value, i.algorithm, FORMAT_VERSION,
             i.created_at, i.trained_from, i.trained_to, i.training_data, json.dumps(i.metrics),
             document, digest),
        )  # fmt: skip
    return stored


def listing(conn: psycopg.Connection) -> list[tuple[ArtifactInfo, int, int]]:
    """Every stored artifact's description, its size in bytes and its format version."""
    rows = conn.execute(
        "SELECT name, version, kind, device_kind, algorithm, created_at, trained_from,"
        " trained_to, training_data, metrics, length(document), format_version"
        " FROM model_artifact ORDER BY name, version"
    ).fetchall()
    return [
        (ArtifactInfo(r[0], r[1], ArtifactKind(r[2]), DeviceKind(r[3]), r[4], r[5], r[6], r[7],
                      r[8], {k: float(v) for k, v in (r[9] or {}).items()}), r[10], r[11])
        for r in rows
    ]  # fmt: skip


def load_models(conn: psycopg.Connection) -> ModelSet:
    """The newest version of every artifact name, each checked; refusals logged, not raised."""
    rows = conn.execute(
        "SELECT DISTINCT ON (name) name, version, document, sha256 FROM model_artifact"
        " ORDER BY name, version DESC"
    ).fetchall()
    classifiers: dict[DeviceKind, Loaded] = {}
    anomaly: dict[DeviceKind, Loaded] = {}
    refused: list[str] = []
    for name, version, document, digest in rows:
        try:
            artifact = decode(bytes(document), digest, f"{name} v{version}")
            loaded = Loaded(build(artifact), artifact.calibration, artifact.info)
        except ArtifactError as exc:
            log.error("%s; running without it", exc)
            refused.append(str(exc))
            continue
        target = classifiers if artifact.info.kind is ArtifactKind.CLASSIFIER else anomaly
        target[artifact.info.device_kind] = loaded
    models = ModelSet(classifiers, anomaly, tuple(refused))
    log.info("models loaded: %s", ", ".join(models.names) or "none (rules and baselines only)")
    return models


def history(
    conn: psycopg.Connection, kind: DeviceKind, since: datetime, until: datetime
) -> Iterator[Reading]:
    """Stored readings of one kind in [since, until), per device (and port) in time order."""
    query = (
        f"SELECT {', '.join(_READING_COLUMNS)} FROM reading"
        " WHERE kind = %s AND ts >= %s AND ts < %s ORDER BY device_id, port, ts"
    )
    with conn.cursor(name="models_history") as cur:
        cur.itersize = 5000
        cur.execute(query, (kind.value, since, until))
        for row in cur:
            values = dict(zip(_READING_COLUMNS, row, strict=True))
            values["kind"] = DeviceKind(values["kind"])
            yield Reading(community="", grid="", station_id="", **values)


def history_features(
    conn: psycopg.Connection, kind: DeviceKind, since: datetime, until: datetime
) -> Matrix:
    import numpy as np

    tracker = FeatureTracker()
    rows = [row for r in history(conn, kind, since, until) if (row := tracker.update(r))]
    from firewatch.models.features import FEATURES

    return np.array(rows, dtype=np.float64).reshape(-1, len(FEATURES[kind]))


def venue_hazards(conn: psycopg.Connection) -> dict[str, VenueHazards]:
    """Each registered venue's inspection tier and latest inspection, for `RiskStage(venues=)`.

    Failed items and open cases arrive later on the stream and from the cases stage.
    """
    rows = conn.execute(
        "SELECT v.venue_id, v.category, max(s.ts) FILTER (WHERE s.scan_type = 'inspection')"
        " FROM venue v LEFT JOIN venue_scan s ON s.venue_id = v.venue_id"
        " GROUP BY v.venue_id, v.category"
    ).fetchall()
    return {r[0]: VenueHazards(category=int(r[1]), last_inspection=r[2]) for r in rows}


def _reason_json(score: RiskScore) -> str:
    def plain(obj: Any) -> Any:
        if isinstance(obj, datetime):
            return obj.isoformat()
        if isinstance(obj, dict):
            return {k: plain(v) for k, v in obj.items()}
        if isinstance(obj, list | tuple):
            return [plain(v) for v in obj]
        return obj

    return json.dumps([plain(asdict(r)) for r in score.reasons], ensure_ascii=False)


class ScoreWriter:
    """A `RiskSink` that appends scores to `risk_score` with one COPY per call.

    Given a connection it uses it; given a connect function it (re)connects as needed, and
    while the database is away it drops scores with a warning: they are derived data, the
    readings they come from are stored, and the stream must not wait for them.
    """

    def __init__(self, conn: psycopg.Connection | Callable[[], psycopg.Connection]) -> None:
        self._connect = conn if callable(conn) else None
        self._conn: psycopg.Connection | None = None if callable(conn) else conn

    def write(self, scores: Sequence[RiskScore]) -> None:
        if not scores:
            return
        try:
            if self._conn is None or self._conn.closed:
                assert self._connect is not None
                self._conn = self._connect()
            self._copy(self._conn, scores)
        except psycopg.OperationalError as exc:
            if self._connect is None:
                raise
            log.warning("%d risk scores not stored, database unreachable: %s", len(scores), exc)
            self._conn = None

    def _copy(self, conn: psycopg.Connection, scores: Sequence[RiskScore]) -> None:
        with conn.transaction(), conn.cursor() as cur, cur.copy(
            "COPY risk_score (at, scope, subject_id, venue_id, community, score, level, basis,"
            " reasons) FROM STDIN"
        ) as copy:  # fmt: skip
            for s in scores:
                copy.write_row(
                    (
                        s.at,
                        s.scope.value,
                        s.subject_id,
                        s.venue_id,
                        s.community,
                        s.score,
                        s.level.value,
                        s.basis.value,
                        _reason_json(s),
                    )
                )
