"""Risk scoring on one core: readings per second through the models stage, all models loaded.

    python bench/scoring.py [--quick]

One run, one process, one thread:
1. a recorded stream: a quiet day of many smoke detectors and charging stations, with the
   scenario library's fires, nuisances and troubles mixed in, decoded as ingest would;
2. the models: both fire classifiers and both anomaly models, trained here and loaded through
   their stored form (encoded, checked, decoded), as the engine loads them at start-up;
3. firewatch: `RiskStage.score` over ingest-sized batches (2,000 records): features, the batch
   scored by every model at once, fusion per device, venue and community;
4. baseline in the same run: the naive design, each reading scored on its own (a batch of one),
   so every model call pays its fixed cost per reading.
The last line is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from firewatch.ingest.records import Decoded, Reading
from firewatch.kernel.contract import DeviceKind
from firewatch.models.artifact import build, decode, encode
from firewatch.models.evaluate import QUICK_TRAIN_SEEDS, START, quiet_day, train_models
from firewatch.models.labels import scenario_run
from firewatch.models.stage import Loaded, ModelSet, RiskStage
from firewatch.simulators.subdistrict import generate

BATCH = 2000


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def reloaded(models: ModelSet) -> ModelSet:
    """The same models after a trip through their stored form."""
    from firewatch.models.artifact import Artifact

    def trip(m: Loaded) -> Loaded:
        artifact = Artifact(m.info, m.model.to_params(), m.calibration)
        raw, digest = encode(artifact)
        back = decode(raw, digest)
        return Loaded(build(back), back.calibration, back.info)

    return ModelSet({k: trip(m) for k, m in models.classifiers.items()},
                    {k: trip(m) for k, m in models.anomaly.items()})  # fmt: skip


def stream(quick: bool) -> list[Decoded]:
    world = generate(1)
    smoke, chargers, hours = (600, 60, 2.0) if quick else (1500, 150, 3.0)
    records, _ = quiet_day(world, seed=11, smoke=smoke, chargers=chargers, hours=hours)
    for seed in range(1, 3 if quick else 6):
        incidents, _ = scenario_run(seed, world, start=START + timedelta(minutes=5))
        records.extend(incidents)
    records.sort(key=lambda r: r.received_at)
    return records


def measure(stage: RiskStage, records: list[Decoded], batch: int) -> tuple[float, int]:
    started = time.perf_counter()
    for i in range(0, len(records), batch):
        stage.score(records[i : i + batch])
    return time.perf_counter() - started, len(records)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a run of under a minute")
    args = parser.parse_args()
    world = generate(1)
    say("training the models (quick seeds) and loading them through their stored form")
    models = reloaded(train_models(START, QUICK_TRAIN_SEEDS, world))
    say(f"  loaded: {', '.join(models.names)}")
    say("recording the stream")
    records = stream(args.quick)
    readings = sum(1 for r in records if isinstance(r, Reading)
                   and r.kind in (DeviceKind.SMOKE, DeviceKind.CHARGING))  # fmt: skip
    say(f"  {len(records)} records, {readings} smoke and charging readings")

    measure(RiskStage(models), records[:20_000], BATCH)  # warm the code paths
    elapsed, n = measure(RiskStage(models), records, BATCH)
    rate = readings / elapsed
    say(f"firewatch: {n} records in {elapsed:.2f} s: {rate:,.0f} readings/s")

    part = records[: 20_000 if args.quick else 60_000]
    part_readings = sum(1 for r in part if isinstance(r, Reading)
                        and r.kind in (DeviceKind.SMOKE, DeviceKind.CHARGING))  # fmt: skip
    base_elapsed, _ = measure(RiskStage(models), part, 1)
    baseline = part_readings / base_elapsed
    say(f"baseline (one reading at a time): {baseline:,.0f} readings/s")

    bare_elapsed, _ = measure(RiskStage(ModelSet()), records, BATCH)
    say(f"no models (baselines and alarms only): {readings / bare_elapsed:,.0f} readings/s")
    print(json.dumps({
        "readings_per_s": round(rate),
        "baseline_per_s": round(baseline),
        "ratio": round(rate / baseline, 1),
        "no_models_per_s": round(readings / bare_elapsed),
        "readings": readings,
        "records": len(records),
        "batch": BATCH,
        "models": models.names,
        "quick": args.quick,
    }))  # fmt: skip
    return 0 if rate >= 50_000 else 1


if __name__ == "__main__":
    sys.exit(main())
