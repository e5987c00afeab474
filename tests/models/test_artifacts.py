"""Artifacts: stored and loaded in a safe format; a bad one is refused and the engine goes on."""

from __future__ import annotations

import contextlib
import gzip
import json
import zlib
from datetime import UTC, datetime

import psycopg
import pytest

from firewatch.kernel.contract import DeviceKind, Level
from firewatch.models import store
from firewatch.models.artifact import Artifact, build, decode, encode
from firewatch.models.errors import ArtifactError
from firewatch.models.stage import Loaded, ModelSet, RiskStage
from tests.models.test_stage import quiet, smoke

NOW = datetime(2026, 5, 2, tzinfo=UTC)


def artifacts(models: ModelSet) -> list[Artifact]:
    loaded = [*models.classifiers.values(), *models.anomaly.values()]
    return [Artifact(m.info, m.model.to_params(), m.calibration) for m in loaded]


def test_every_model_round_trips_and_scores_the_same(trained: ModelSet) -> None:
    import numpy as np

    for artifact in artifacts(trained):
        raw, digest = encode(artifact)
        assert raw[:2] == b"\x1f\x8b" and b"pickle" not in gzip.decompress(raw)
        back = decode(raw, digest)
        assert back.info == artifact.info
        x = np.abs(np.random.default_rng(1).normal(0, 5, size=(50, 10)))
        original = build(artifact).score_many(x)
        assert build(back).score_many(x) == pytest.approx(original)


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        # a flipped byte in the middle of the document
        (lambda raw, doc: raw[:40] + bytes([raw[40] ^ 0xFF]) + raw[41:], "corrupted"),
        # a well-formed document whose content changed after it was stored
        (
            lambda raw, doc: gzip.compress(json.dumps({**doc, "metrics": {"x": 1}}).encode()),
            "SHA-256 does not match",
        ),
        # a format version from the future
        (
            lambda raw, doc: gzip.compress(json.dumps({**doc, "format_version": 99}).encode()),
            "format version 99",
        ),
        # an algorithm this engine does not know
        (
            lambda raw, doc: gzip.compress(json.dumps({**doc, "algorithm": "deep_net"}).encode()),
            "does not know",
        ),
        # not our format at all
        (lambda raw, doc: gzip.compress(b'{"hello": "world"}'), "not a firewatch-model"),
    ],
)
def test_a_bad_artifact_is_refused_with_a_clear_error(trained: ModelSet, damage, message) -> None:  # type: ignore[no-untyped-def]
    artifact = artifacts(trained)[0]
    raw, digest = encode(artifact)
    doc = json.loads(gzip.decompress(raw))
    bad = damage(raw, doc)
    if "does not match" not in message:
        # the stored checksum follows the document, so only the named check can catch it
        import hashlib

        with contextlib.suppress(OSError, EOFError, zlib.error):
            digest = hashlib.sha256(gzip.decompress(bad)).hexdigest()
    with pytest.raises(ArtifactError, match=message):
        decode(bad, digest, "fire-smoke v1")


def test_parameters_that_do_not_fit_together_are_refused(trained: ModelSet) -> None:
    artifact = artifacts(trained)[0]
    broken = Artifact(artifact.info, {**artifact.params, "leaf": [[0.0]]}, artifact.calibration)
    with pytest.raises(ArtifactError, match="unusable parameters"):
        build(broken)


def test_load_refuses_a_corrupted_artifact_and_the_engine_falls_back(
    fresh_db: str, trained: ModelSet
) -> None:
    with psycopg.connect(fresh_db) as conn:
        for artifact in artifacts(trained):
            store.save(conn, artifact)
        smoke_v2 = store.save(conn, artifacts(trained)[0])  # a second version of fire-smoke
        assert smoke_v2.info.version == 2
        conn.execute(
            "UPDATE model_artifact SET document = overlay(document placing '\\xdeadbeef'::bytea"
            " from 30) WHERE name = 'fire-smoke' AND version = 2"
        )
        conn.commit()
        loaded = store.load_models(conn)
    assert DeviceKind.SMOKE not in loaded.classifiers  # the newest is refused, not an older one
    assert DeviceKind.CHARGING in loaded.classifiers and len(loaded.anomaly) == 2
    assert loaded.refused and "fire-smoke v2 is corrupted" in loaded.refused[0]
    stage = RiskStage(loaded)  # rules and baselines for smoke still work
    quiet(stage)
    scores = stage.score([smoke(1260, obs=12.0, alarm=True), smoke(1265, obs=12.0, alarm=True)])
    assert scores[-1].level in (Level.YELLOW, Level.BLUE)


def test_an_empty_store_loads_nothing_and_says_so(fresh_db: str) -> None:
    with psycopg.connect(fresh_db) as conn:
        assert store.load_models(conn) == ModelSet()
        assert store.listing(conn) == []


def test_loaded_models_keep_their_version(fresh_db: str, trained: ModelSet) -> None:
    with psycopg.connect(fresh_db) as conn:
        for artifact in artifacts(trained):
            store.save(conn, artifact)
        loaded = store.load_models(conn)
    smoke_model: Loaded = loaded.classifiers[DeviceKind.SMOKE]
    assert smoke_model.info.label == "fire-smoke v1" and smoke_model.info.created_at
