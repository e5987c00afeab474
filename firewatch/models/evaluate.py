"""`firewatch eval`: the detection path against ground truth, beside a naive baseline.

The scenario library is run for several seeds; its traffic goes through ingest's decoder into
batches (one a second, as ingest commits them), then through the rules stage when one is wired
in (`EvidenceSource`) and the models stage (`RiskStage`). Compared with each scenario's ground
truth: fires detected (venue at orange or red) and how long after the onset, nuisances raised
to orange or red, and a naive baseline in the same run that raises red whenever a detector's own
alarm flag is set. A quiet day of normal traffic gives false raises per 1,000 device-days, and
the real measurements in ../shared/data (`models.realdata`) give a lead or lag per test.

Models are trained here, on seeds the evaluation never uses, so a clean clone evaluates
exactly what `firewatch models train` would store.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final, Protocol
from zoneinfo import ZoneInfo

import numpy as np

from firewatch.ingest.records import Decoded, DeviceEvent, Reading
from firewatch.ingest.stream import Batch
from firewatch.kernel.contract import DeviceKind, Level
from firewatch.models.artifact import Artifact, build
from firewatch.models.features import FEATURES, FeatureTracker
from firewatch.models.fusion import RiskScore
from firewatch.models.labels import FIRE_SCENARIOS, labelled, registry_of, scenario_run
from firewatch.models.realdata import (
    DATA_DIR,
    NIST_TESTS,
    Replay,
    fsri_cell,
    nist,
    nist_origin,
    photo_alarms,
)
from firewatch.models.stage import Loaded, ModelSet, RiskStage
from firewatch.models.training import HELD_OUT_SEEDS, NUISANCES, train_anomaly, train_classifier
from firewatch.rules.evidence import Evidence, Scope
from firewatch.simulators.records import GroundTruth, Outcome
from firewatch.simulators.subdistrict import Subdistrict, generate

EVAL_SEEDS: Final = tuple(range(1, 11))
QUICK_SEEDS: Final = tuple(range(1, 4))
TRAIN_SEEDS: Final = tuple(range(101, 141))
QUICK_TRAIN_SEEDS: Final = tuple(range(101, 113))
START: Final = datetime(2026, 5, 1, 2, 0, tzinfo=UTC)
RAISED: Final = (Level.ORANGE, Level.RED)
BASELINE_SLACK_S: Final = 30.0


class EvidenceSource(Protocol):
    """The rules stage as the evaluation drives it (`rules.engine.RuleEngine`): one committed
    batch in, its evidence out."""

    def evaluate(self, batch: Batch) -> Sequence[Evidence]: ...


RulesFactory = Callable[[Subdistrict], EvidenceSource]


def default_rules(world: Subdistrict) -> EvidenceSource:
    """The rules stage with its default library, judging this subdistrict."""
    from firewatch.rules.directory import Directory
    from firewatch.rules.engine import RuleEngine
    from firewatch.rules.loader import DEFAULT_DIR, load_library

    directory = Directory(
        {v.venue_id: v.venue_type.value for v in world.venues},
        {d.device_id: d.heartbeat_s for d in world.devices},
    )
    return RuleEngine(
        load_library(DEFAULT_DIR), zone=ZoneInfo("Asia/Shanghai"), directory=directory
    )


@dataclass(frozen=True, slots=True)
class ScenarioResult:
    seed: int
    scenario: str
    expected: Outcome
    detected_s: float | None  # venue at orange or red, seconds after the onset
    baseline_s: float | None  # the naive baseline's red, seconds after the onset
    top: Level  # the highest venue level seen
    note: str = ""


@dataclass(frozen=True, slots=True)
class RealResult:
    test: str  # e.g. SDC05 or FSRI
    location: str  # NIST location, or "cell"
    reference_s: float  # first real photoelectric alarm there, or the labelled onset
    warned_s: float | None  # first orange or red
    yellow_s: float | None  # first yellow or above
    early_warnings: int = 0  # FSRI: level changes to orange or red in the heating phase
    early_notes: int = 0  # FSRI: changes to yellow (an unusual reading) in the heating phase
    heating_end_s: float | None = None

    @property
    def lead_s(self) -> float | None:
        return None if self.warned_s is None else round(self.reference_s - self.warned_s, 1)


@dataclass
class Report:
    scenarios: list[ScenarioResult] = field(default_factory=list)
    real: list[RealResult] = field(default_factory=list)
    origin: dict[str, str] = field(default_factory=dict)  # NIST test -> location replayed
    quiet_device_days: float = 0.0
    quiet_raises: int = 0
    runaway_before_smoke_s: list[float] = field(default_factory=list)
    models: list[str] = field(default_factory=list)
    rules: str = "none wired in: models, baselines and detector alarms only"
    seeds: tuple[int, ...] = ()

    def _of(
        self, expected: Outcome | None = None, names: Sequence[str] = ()
    ) -> list[ScenarioResult]:
        return [
            s for s in self.scenarios
            if (expected is None or s.expected == expected)
            and (not names or s.scenario in names)
        ]  # fmt: skip

    @property
    def recall(self) -> float:
        fires = self._of(Outcome.ALARM, tuple(FIRE_SCENARIOS))
        return sum(s.detected_s is not None for s in fires) / len(fires) if fires else 0.0

    @property
    def nuisance_escalated(self) -> float:
        runs = self._of(names=NUISANCES)
        return sum(s.top in RAISED for s in runs) / len(runs) if runs else 0.0

    @property
    def baseline_nuisance_escalated(self) -> float:
        runs = self._of(names=NUISANCES)
        return sum(s.baseline_s is not None for s in runs) / len(runs) if runs else 0.0

    @property
    def false_per_1000_device_days(self) -> float:
        days = self.quiet_device_days
        return round(1000.0 * self.quiet_raises / days, 2) if days else 0.0

    @property
    def within_baseline(self) -> bool:
        """Every fire detected no later than the naive baseline plus 30 s."""
        return all(
            s.detected_s is not None
            and (s.baseline_s is None or s.detected_s <= s.baseline_s + BASELINE_SLACK_S)
            for s in self._of(Outcome.ALARM, tuple(FIRE_SCENARIOS))
        )

    def summary(self) -> dict[str, Any]:
        real: dict[str, Any] = {}
        for r in self.real:
            if r.test == "FSRI":
                real["FSRI"] = {"lead_s": r.lead_s, "heating_warnings": r.early_warnings,
                                "heating_yellow_notes": r.early_notes}  # fmt: skip
            elif self.origin.get(r.test) == r.location:
                real[r.test] = {"location": r.location, "lead_s": r.lead_s}
        per_fire = {}
        for name in sorted(FIRE_SCENARIOS):
            runs = self._of(names=(name,))
            det = [s.detected_s for s in runs if s.detected_s is not None]
            gap = [s.detected_s - s.baseline_s for s in runs
                   if s.detected_s is not None and s.baseline_s is not None]  # fmt: skip
            per_fire[name] = {
                "detected": f"{len(det)}/{len(runs)}",
                "median_s": round(statistics.median(det), 1) if det else None,
                "worst_vs_baseline_s": round(max(gap), 1) if gap else None,
            }
        return {
            "recall": round(self.recall, 3),
            "nuisance_escalated": round(self.nuisance_escalated, 3),
            "baseline_nuisance_escalated": round(self.baseline_nuisance_escalated, 3),
            "false_per_1000_device_days": self.false_per_1000_device_days,
            "quiet_device_days": round(self.quiet_device_days, 1),
            "fires_within_baseline_plus_30s": self.within_baseline,
            "runaway_before_smoke_min_s": (
                round(min(self.runaway_before_smoke_s), 1) if self.runaway_before_smoke_s else None
            ),
            "fires": per_fire,
            "real": real,
            "seeds": list(self.seeds),
            "models": self.models,
            "rules": self.rules,
        }


# -- the detection path ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Raise:
    at: datetime  # when the batch that raised it was committed
    level: Level


def replay(
    records: Sequence[Decoded], stage: RiskStage, rules: EvidenceSource | None = None,
    batch_s: float = 1.0,
) -> list[tuple[datetime, RiskScore]]:  # fmt: skip
    """Feed records to the stages in batches of `batch_s` (by receipt); every score written,
    with the moment its batch was committed."""
    out: list[tuple[datetime, RiskScore]] = []
    batch: list[Decoded] = []
    edge: datetime | None = None

    def flush() -> None:
        if not batch:
            return
        at = batch[-1].received_at
        if rules is not None:
            found = rules.evaluate(Batch(tuple(batch), (), at))
            out.extend((at, s) for s in stage.take_evidence(found))
        out.extend((at, s) for s in stage.score(batch))
        batch.clear()

    for r in records:
        if edge is None or r.received_at >= edge:
            flush()
            edge = r.received_at + timedelta(seconds=batch_s)
        batch.append(r)
    flush()
    return out


def _first(scores: Iterable[tuple[datetime, RiskScore]], subject: str, scope: Scope,
           levels: Sequence[Level], since: datetime) -> datetime | None:  # fmt: skip
    for at, s in scores:
        if s.scope == scope and s.subject_id == subject and s.level in levels and at >= since:
            return at
    return None


def _top(scores: Iterable[tuple[datetime, RiskScore]], venue: str, since: datetime,
         until: datetime) -> Level:  # fmt: skip
    order = [Level.BLUE, Level.YELLOW, Level.ORANGE, Level.RED]
    best = Level.BLUE
    for at, s in scores:
        if s.scope == Scope.VENUE and s.subject_id == venue and since <= at <= until:
            best = max(best, s.level, key=order.index)
    return best


def _baseline(
    records: Sequence[Decoded], devices: Sequence[str], since: datetime
) -> datetime | None:
    wanted = set(devices)
    for r in records:
        if r.received_at < since or getattr(r, "device_id", None) not in wanted:
            continue
        alarm_event = isinstance(r, DeviceEvent) and r.event == "alarm"
        if (isinstance(r, Reading) and r.alarm) or alarm_event:
            return r.received_at
    return None


def _smoke_appears(records: Sequence[Decoded], device_id: str) -> datetime | None:
    first: float | None = None
    for r in records:
        if isinstance(r, Reading) and r.device_id == device_id and r.smoke_obs is not None:
            if first is None:
                first = r.smoke_obs
            elif r.smoke_obs >= first + 1.0:
                return r.received_at
    return None


def evaluate_seed(
    seed: int, world: Subdistrict, models: ModelSet, rules: RulesFactory | None = None,
) -> tuple[list[ScenarioResult], list[float]]:  # fmt: skip
    records, truths = scenario_run(seed, world, start=START)
    scores = replay(records, RiskStage(models), rules(world) if rules is not None else None)
    results, before_smoke = [], []
    for t in truths:
        raised = _first(scores, t.venue_id, Scope.VENUE, RAISED, t.start)
        if raised is not None and raised > t.end:
            raised = None
        base = _baseline(records, t.device_ids, t.start)
        if base is not None and base > t.end:
            base = None
        note = ""
        if t.scenario == "thermal_runaway" and raised is not None:
            smoke = _smoke_appears(records, t.device_ids[0])
            if smoke is not None:
                before_smoke.append((smoke - raised).total_seconds())
                lead = (smoke - raised).total_seconds()
                note = f"raised {lead:.0f} s before smoke at the detector"
        results.append(ScenarioResult(seed, t.scenario, t.expected, _rel(raised, t),
                                      _rel(base, t),
                                      _top(scores, t.venue_id, t.start, t.end), note))  # fmt: skip
    return results, before_smoke


# -- a quiet day: normal traffic for false raises --------------------------------------------


def quiet_day(world: Subdistrict, seed: int, smoke: int, chargers: int,
              hours: float = 24.0) -> tuple[list[Decoded], float]:  # fmt: skip
    """Normal life for `smoke` detectors and `chargers` stations: rooms that warm by day and
    cool by night, humidity that follows, bikes charged morning and evening. The decoded
    records and the device-days they cover."""
    from random import Random

    from firewatch.ingest.decode import decode
    from firewatch.ingest.records import Rejected
    from firewatch.simulators.devices import SmokeSample
    from firewatch.simulators.scenarios.charging import new_charge, run_station
    from firewatch.simulators.scenarios.context import Catalogue, Context
    from firewatch.simulators.scenarios.timeline import Timeline, watch

    start = START
    end = start + timedelta(hours=hours)
    ctx = Context(Catalogue(world), seed=seed, name="quiet_day", start=start, taken=set(),
                  zone=ZoneInfo("Asia/Shanghai"))  # fmt: skip
    rng = Random(f"quiet:{seed}")  # noqa: S311 - seeded on purpose
    tl = Timeline(start, end)
    smokes = [d for d in world.devices if d.kind is DeviceKind.SMOKE]
    for device in rng.sample(smokes, smoke):
        room, phase = ctx.room(), rng.uniform(0, 2 * math.pi)

        def air(now: datetime, room: SmokeSample = room, phase: float = phase) -> SmokeSample:
            day = math.sin(2 * math.pi * (now - start).total_seconds() / 86400.0 + phase)
            return SmokeSample(room.smoke_obs, room.temp_c + 2.5 * day, room.co_ppm,
                               min(100.0, room.humidity_pct - 8.0 * day))  # fmt: skip

        watch(tl, ctx.smoke(device), air)
    stations = [d for d in world.devices if d.kind is DeviceKind.CHARGING and "口" in d.location]
    for device in rng.sample(stations, min(chargers, len(stations))):
        station, ambient = ctx.station(device), ctx.room().temp_c
        ports = rng.sample(station.ports, min(4, len(station.ports)))
        loads, changes = {}, {}
        for i, port in enumerate(ports):
            plug = start + timedelta(hours=(7 if i % 2 else 19) + rng.uniform(0, 3))
            charge = new_charge(rng, plug, ambient)
            loads[port], changes[port] = charge.load, charge.changes
        run_station(tl, station, loads, ambient, changes=changes)
    registry = registry_of(world)
    from firewatch.models.labels import LIMITS

    decoded = (decode(m.topic, m.payload, m.at, registry, LIMITS) for m in tl.run())
    out = [r for r in decoded if not isinstance(r, Rejected)]
    return out, (smoke + chargers) * hours / 24.0


def quiet_raises(
    records: Sequence[Decoded], models: ModelSet, rules: EvidenceSource | None = None
) -> int:
    """Devices entering orange or red on normal traffic."""
    raised = 0
    current: dict[str, bool] = {}
    for _, s in replay(records, RiskStage(models), rules):
        if s.scope != Scope.DEVICE:
            continue
        up = s.level in RAISED
        if up and not current.get(s.subject_id, False):
            raised += 1
        current[s.subject_id] = up
    return raised


# -- real data -------------------------------------------------------------------------------


def replay_real(
    replay_: Replay, models: ModelSet
) -> tuple[float | None, float | None, list[tuple[float, Level]]]:
    """(first orange-or-red s, first yellow-or-above s, every level change) after t = 0."""
    stage = RiskStage(models)
    warned = yellow = None
    changes: list[tuple[float, Level]] = []
    for r in replay_.readings:
        for s in stage.score([r]):
            if s.scope != Scope.DEVICE:
                continue
            t = (r.ts - replay_.start).total_seconds()
            changes.append((t, s.level))
            if s.level in RAISED and warned is None and t >= 0:
                warned = t
            if s.level != Level.BLUE and yellow is None and t >= 0:
                yellow = t
    return warned, yellow, changes


def evaluate_real(
    models: ModelSet, data: Path = DATA_DIR
) -> tuple[list[RealResult], dict[str, str]]:
    results, origin = [], {}
    alarms = photo_alarms(data)
    for test in NIST_TESTS:
        origin[test] = nist_origin(test, data)
        for location in sorted(alarms[test]):
            rep = nist(test, location, data)
            warned, yellow, _ = replay_real(rep, models)
            results.append(RealResult(test, location, rep.reference_s, warned, yellow))
    rep = fsri_cell(data)
    warned, yellow, changes = replay_real(rep, models)
    heating_end = rep.heating_end_s
    end = heating_end if heating_end is not None else rep.reference_s
    heating = [level for t, level in changes if 0 <= t < end]
    early = sum(1 for level in heating if level in RAISED)
    notes = sum(1 for level in heating if level == Level.YELLOW)
    results.append(
        RealResult("FSRI", "cell", rep.reference_s, warned, yellow, early, notes, heating_end)
    )
    return results, origin


# -- all of it -------------------------------------------------------------------------------


def train_models(
    created_at: datetime,
    seeds: Sequence[int],
    world: Subdistrict,
    say: Callable[[str], None] = lambda _: None,
) -> ModelSet:
    """Fire classifiers from the library and anomaly models from a quiet day (other seeds)."""
    data = labelled(seeds, world)
    held = labelled(HELD_OUT_SEEDS, world)
    say(f"  labelled {sum(len(v.y) for v in data.values())} readings of seeds "
        f"{min(seeds)}-{max(seeds)}")  # fmt: skip
    artifacts: list[Artifact] = []
    for kind in FEATURES:
        artifacts.append(train_classifier(kind, created_at, seeds=seeds, data=data, test=held))
    quiet, _ = quiet_day(world, seed=max(seeds) + 1, smoke=40, chargers=10, hours=12)
    tracker = FeatureTracker()
    history: dict[DeviceKind, list[list[float]]] = {k: [] for k in FEATURES}
    for r in quiet:
        if isinstance(r, Reading) and (row := tracker.update(r)) is not None:
            history[r.kind].append(row)
    for kind in FEATURES:
        artifacts.append(train_anomaly(
            kind, np.array(history[kind]), held[kind], created_at, trained_from=None,
            trained_to=None, source=f"simulators: a quiet half-day, seed {max(seeds) + 1}",
        ))  # fmt: skip
    classifiers = {a.info.device_kind: Loaded(build(a), a.calibration, a.info)
                   for a in artifacts if a.info.kind.value == "classifier"}  # fmt: skip
    anomaly = {a.info.device_kind: Loaded(build(a), a.calibration, a.info)
               for a in artifacts if a.info.kind.value == "anomaly"}  # fmt: skip
    for a in artifacts:
        say(f"  {a.info.name}: {a.info.algorithm} {a.info.metrics}")
    return ModelSet(classifiers, anomaly)


def run_eval(
    *, quick: bool = False, models: ModelSet | None = None, rules: RulesFactory | None = None,
    data: Path = DATA_DIR, say: Callable[[str], None] = lambda _: None,
    created_at: datetime = START,
) -> Report:  # fmt: skip
    world = generate(1)
    seeds = QUICK_SEEDS if quick else EVAL_SEEDS
    if models is None:
        say("training the models on seeds the evaluation does not use")
        models = train_models(created_at, QUICK_TRAIN_SEEDS if quick else TRAIN_SEEDS, world, say)
    report = Report(models=models.names, seeds=seeds)
    if rules is not None:
        report.rules = "the rules stage's default library (rules/library)"
    for seed in seeds:
        results, before = evaluate_seed(seed, world, models, rules)
        report.scenarios.extend(results)
        report.runaway_before_smoke_s.extend(before)
        say(f"  seed {seed}: {len(results)} scenarios")
    smoke, chargers = (40, 10) if quick else (150, 30)
    quiet, days = quiet_day(world, seed=7, smoke=smoke, chargers=chargers)
    report.quiet_device_days = days
    report.quiet_raises = quiet_raises(quiet, models, rules(world) if rules else None)
    say(f"  quiet day: {len(quiet)} records, {days:.0f} device-days")
    report.real, report.origin = evaluate_real(models, data)
    return report


def table(report: Report) -> str:
    """The report as text: per scenario, then the real tests, then the figures."""
    lines = ["scenario                  expected      runs  detected  median s  worst s  "
             "baseline med s  raised orange+"]  # fmt: skip
    names = list(dict.fromkeys(s.scenario for s in report.scenarios))
    for name in names:
        runs = [s for s in report.scenarios if s.scenario == name]
        det = [s.detected_s for s in runs if s.detected_s is not None]
        base = [s.baseline_s for s in runs if s.baseline_s is not None]
        raised = sum(s.top in RAISED for s in runs)
        expected = runs[0].expected.value
        lines.append(
            f"{name:<25} {expected:<13} {len(runs):>4}  {len(det):>8}  "
            f"{_num(statistics.median(det) if det else None):>8}  "
            f"{_num(max(det) if det else None):>7}  "
            f"{_num(statistics.median(base) if base else None):>14}  {raised:>5}/{len(runs)}"
        )  # fmt: skip
    lines.append("")
    lines.append("real test       location  reference s  warned s  lead s  first yellow s")
    for r in report.real:
        mark = " (room of origin)" if report.origin.get(r.test) == r.location else ""
        if r.test == "FSRI":
            mark = (f" (heating phase, before {r.heating_end_s:g} s: {r.early_warnings} "
                    f"warnings, {r.early_notes} yellow notes)")  # fmt: skip
        lines.append(f"{r.test:<15} {r.location:<9} {r.reference_s:>11g}  {_num(r.warned_s):>8}  "
                     f"{_num(r.lead_s):>6}  {_num(r.yellow_s):>14}{mark}")  # fmt: skip
    lines.append("")
    s = report.summary()
    lines.append(
        f"recall {s['recall']}, nuisance escalated {s['nuisance_escalated']} (baseline "
        f"{s['baseline_nuisance_escalated']}), false raises {s['false_per_1000_device_days']} "
        f"per 1,000 device-days ({s['quiet_device_days']} device-days), fires within baseline "
        f"+30 s: {s['fires_within_baseline_plus_30s']}, runaway raised before smoke by at least "
        f"{s['runaway_before_smoke_min_s']} s"
    )
    lines.append(f"models: {', '.join(report.models) or 'none'}; rules: {report.rules}")
    return "\n".join(lines)


def _rel(at: datetime | None, truth: GroundTruth) -> float | None:
    return None if at is None else round((at - truth.onset).total_seconds(), 1)


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"
