"""The models stage on batches: hand-made evidence, detector alarms, scans, no models at all."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg

from firewatch.ingest.records import Reading, ScanItem, VenueScan
from firewatch.ingest.stream import Batch
from firewatch.kernel.contract import DeviceKind, Level
from firewatch.models.fusion import Basis, RiskScore, Source
from firewatch.models.stage import ModelSet, RiskStage
from firewatch.models.store import ScoreWriter
from firewatch.rules.evidence import Category, Evidence, ReadingRef, Scope

T0 = datetime(2026, 5, 1, 2, 0, tzinfo=UTC)


def smoke(
    s: float, obs: float = 0.2, temp: float = 22.0, alarm: bool = False, device: str = "SMK-1"
) -> Reading:
    at = T0 + timedelta(seconds=s)
    return Reading(
        at,
        at,
        device,
        DeviceKind.SMOKE,
        "V-1",
        "Xinhua",
        "G-1",
        "MS-1",
        int(s),
        smoke_obs=obs,
        temp_c=temp,
        alarm=alarm,
    )


def quiet(stage: RiskStage, device: str = "SMK-1") -> None:
    stage.score([smoke(s, device=device) for s in range(0, 1200, 60)])


def evidence(level: Level, category: Category = Category.FIRE, at_s: float = 1300) -> Evidence:
    at = T0 + timedelta(seconds=at_s)
    return Evidence(
        "smoke.corroborated",
        1,
        category,
        level,
        Scope.DEVICE,
        "SMK-1",
        "V-1",
        ("SMK-1",),
        at,
        "smoke with heat rising at SMK-1",
        (ReadingRef("SMK-1", at, 21, "smoke_obs", 14.0),),
    )


def last(scores: list[RiskScore], scope: Scope) -> RiskScore:
    return [s for s in scores if s.scope == scope][-1]


def test_without_models_a_red_rule_makes_device_venue_and_community_red() -> None:
    stage = RiskStage(ModelSet())
    quiet(stage)
    scores = stage.take_evidence([evidence(Level.RED)])
    device, venue = last(scores, Scope.DEVICE), last(scores, Scope.VENUE)
    assert (device.level, device.score, venue.level) == (Level.RED, 90, Level.RED)
    assert device.reasons[0].source == Source.RULE and device.reasons[0].version == 1
    assert device.reasons[0].readings[0].field == "smoke_obs"
    assert last(scores, Scope.COMMUNITY).subject_id == "Xinhua"


def test_trouble_evidence_never_raises_fire_risk() -> None:
    stage = RiskStage()
    quiet(stage)
    scores = stage.take_evidence([evidence(Level.RED, Category.TROUBLE)])
    assert last(scores, Scope.DEVICE).level == Level.BLUE


def test_evidence_expires_after_its_hold() -> None:
    stage = RiskStage()
    quiet(stage)
    stage.take_evidence([evidence(Level.ORANGE)])
    later = stage.score([smoke(1300 + 400), smoke(1300 + 460)])
    assert last(later, Scope.DEVICE).level == Level.BLUE


def test_an_orange_smoke_rule_is_held_when_the_classifier_sees_no_fire(trained: ModelSet) -> None:
    stage = RiskStage(trained)
    quiet(stage)
    stage.score([smoke(1250), smoke(1260)])  # the classifier has spoken twice: nothing
    scores = stage.take_evidence([evidence(Level.ORANGE)])
    device = last(scores, Scope.DEVICE)
    assert device.level == Level.YELLOW and device.basis == Basis.HELD


def test_the_detectors_own_alarm_alone_is_yellow_and_a_fire_goes_red(trained: ModelSet) -> None:
    stage = RiskStage(trained)
    quiet(stage)
    alarm = stage.score([smoke(1260, obs=12.0, alarm=True), smoke(1265, obs=12.5, alarm=True)])
    assert last(alarm, Scope.DEVICE).level == Level.YELLOW
    fire = stage.score([smoke(1200 + 5 * i, obs=min(60.0, 3.0 * i), temp=22.0 + 1.5 * i,
                              alarm=i > 3) for i in range(14, 30)])  # fmt: skip
    device = last(fire, Scope.DEVICE)
    assert device.level == Level.RED
    sources = {r.source for r in device.reasons}
    assert Source.CLASSIFIER in sources and Source.DEVICE in sources
    model = next(r for r in device.reasons if r.source == Source.CLASSIFIER)
    assert model.name == "fire-smoke" and model.version == 1 and "heat" in model.detail


def test_one_noisy_reading_never_raises_a_device(trained: ModelSet) -> None:
    stage = RiskStage(trained)
    quiet(stage)
    spike = stage.score([smoke(1260, obs=22.0, temp=30.0)])
    assert not spike or last(spike, Scope.DEVICE).level == Level.BLUE


def test_failed_scan_items_give_the_venue_standing_risk_and_rectification_clears_it() -> None:
    stage = RiskStage()
    quiet(stage)
    items = tuple(ScanItem(i, False) for i in ("exits_unlocked", "extinguisher_valid",
                                               "no_flammables_stored", "wiring_safe",
                                               "fire_doors_closed", "gas_safe"))  # fmt: skip
    at = T0 + timedelta(hours=1)
    scan = VenueScan(at, at, "V-1", "Xinhua", "G-1", "MS-1", 3, "inspection", "INSP-1", items)
    venue = last(stage.score([scan]), Scope.VENUE)
    assert venue.level == Level.YELLOW and venue.reasons[0].source == Source.HAZARD
    fixed = VenueScan(
        at,
        at,
        "V-1",
        "Xinhua",
        "G-1",
        "MS-1",
        4,
        "rectification",
        "V-1",
        tuple(ScanItem(i.item, True) for i in items),
        case_id="C-1",
    )
    assert last(stage.score([fixed]), Scope.VENUE).level == Level.BLUE


def test_scores_are_written_only_when_they_matter() -> None:
    stage = RiskStage()
    written = stage.score([smoke(s) for s in range(0, 3600, 60)])
    devices = [s for s in written if s.scope == Scope.DEVICE]
    assert len(devices) == 4  # the first, then a refresh every 15 minutes


def test_the_stage_is_a_consumer_and_its_scores_reach_the_database(fresh_db: str) -> None:
    with psycopg.connect(fresh_db) as conn:
        stage = RiskStage(sink=ScoreWriter(conn))
        stage.consume(Batch(tuple(smoke(s) for s in range(0, 600, 60)), (), T0))
        stage.take_evidence([evidence(Level.RED, at_s=620)])
        rows = conn.execute(
            "SELECT scope, subject_id, level, basis, reasons->0->>'source' FROM risk_score"
            " ORDER BY at, scope"
        ).fetchall()
    assert ("device", "SMK-1", "red", "single", "rule") in rows
    assert {r[0] for r in rows} == {"device", "venue", "community"}
