"""Labelled readings from the simulators' scenario library: what the fire classifier learns.

Each scenario comes with its ground truth (`simulators.records.GroundTruth`). A reading of a
device that takes part in a fire or a thermal runaway is a fire (1) from the moment its own
sensors show it (smoke, heat or CO above the room's baseline; for the charging port, a hot or
gassing pack) and normal (0) before the onset; the few readings after the onset that show
nothing yet are left out, since no model could or should call them. Everything else — the
nuisances (cooking, steam, dust, burnt toast), device troubles, normal charging, people — is 0.

>>> data = labelled([1])
>>> sorted(k.value for k in data), int(data[DeviceKind.SMOKE].y.sum()) > 20
(['charging', 'smoke'], True)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from random import Random
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from firewatch.ingest.decode import DecodeLimits, decode
from firewatch.ingest.records import (
    Decoded,
    DeviceInfo,
    Reading,
    Rejected,
    StaticRegistry,
    VenueInfo,
)
from firewatch.kernel.contract import DeviceKind
from firewatch.models.features import FEATURES, FeatureTracker
from firewatch.models.scaling import Matrix
from firewatch.simulators import curves
from firewatch.simulators.records import GroundTruth, Outcome
from firewatch.simulators.scenarios import LIBRARY, compose
from firewatch.simulators.subdistrict import Subdistrict, generate

START: Final = datetime(2026, 5, 1, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
LIMITS: Final = DecodeLimits(max_future_s=300, max_age_s=7 * 86400)
FIRE_SCENARIOS: Final = frozenset({"flaming_fire", "smouldering_fire", "thermal_runaway"})
HOT_PACK_C: Final = 50.0  # a charging pack this hot is no longer charging normally
GAS_PPM: Final = 20.0
COOL_SURFACE_C: Final = (15.0, 40.0)  # a room-temperature cell beside a venting one
NOISE: Final = {"smoke_obs": 1.2, "temp_c": 0.3, "co_ppm": 3.0}
"""Largest sensor noise (sigma) learnt from, on every other seed: the simulated detectors are
quieter than real smoke meters (NIST's jump by 1-2 %/m between samples)."""


@dataclass(frozen=True, slots=True)
class Labelled:
    x: Matrix
    y: npt.NDArray[np.float64]
    scenarios: tuple[str, ...]  # the scenario each row came from ("" for none)


def registry_of(world: Subdistrict) -> StaticRegistry:
    """The generated registry as ingest's decoder sees it."""
    venues = {v.venue_id: v for v in world.venues}
    return StaticRegistry(
        [
            DeviceInfo(
                d.device_id,
                d.kind,
                d.venue_id,
                venues[d.venue_id].community,
                venues[d.venue_id].grid,
                venues[d.venue_id].station_id,
                d.heartbeat_s,
            )
            for d in world.devices
        ],
        [VenueInfo(v.venue_id, v.community, v.grid, v.station_id) for v in world.venues],
    )


def scenario_run(
    seed: int, world: Subdistrict, names: Sequence[str] = tuple(LIBRARY),
    start: datetime = START,
) -> tuple[list[Decoded], tuple[GroundTruth, ...]]:  # fmt: skip
    """The library's traffic for `seed`, decoded as ingest would (received when sent)."""
    run = compose(list(names), world, seed=seed, start=start)
    registry = registry_of(world)
    out: list[Decoded] = []
    for m in run.messages:
        record = decode(m.topic, m.payload, m.at, registry, LIMITS)
        if not isinstance(record, Rejected):
            out.append(record)
    return out, run.truths


def _label(kind: DeviceKind, r: Reading, row: list[float], truth: GroundTruth | None) -> float:
    """1 fire, 0 not, NaN leave out (after the onset, nothing to see yet)."""
    if truth is None or truth.scenario not in FIRE_SCENARIOS or truth.expected != Outcome.ALARM:
        return 0.0
    if kind is DeviceKind.CHARGING:
        heating = truth.onset - timedelta(seconds=curves.TR_PREHEAT_S)
        if r.received_at < heating:
            return 0.0
        named = dict(zip(FEATURES[kind], row, strict=True))
        hot = named["surface_c"] >= HOT_PACK_C
        gas = max(named["voc_rise"], named["co_rise"], named["h2_rise"]) >= GAS_PPM
        return 1.0 if hot or gas else (0.0 if r.received_at < truth.onset else np.nan)
    if r.received_at < truth.onset:
        return 0.0
    named = dict(zip(FEATURES[kind], row, strict=True))
    shows = named["smoke_rise"] >= 1.0 or named["heat_rise"] >= 2.0 or named["co_rise"] >= 10.0
    return 1.0 if shows else np.nan


def _cool_copy(kind: DeviceKind, row: list[float], rng: Random) -> list[float] | None:
    """A venting pack as a port would see it whose sensor is on a cell not yet hot.

    The simulated runaway heats the whole pack before it vents (assumed); in the UL FSRI test
    the venting cells stay at room temperature for a minute after the onset. So every gassing
    row is also learnt without its heat: off-gas alone must be enough.
    """
    if kind is not DeviceKind.CHARGING:
        return None
    named = dict(zip(FEATURES[kind], row, strict=True))
    if max(named["voc_rise"], named["co_rise"], named["h2_rise"]) < GAS_PPM:
        return None
    named["surface_c"] = rng.uniform(*COOL_SURFACE_C)
    named["heat_rise"] = named["heat_rate"] = 0.0
    # never hot, so the port never cut power; the pack draws nothing (full, or fuse open)
    named["port_fault"] = named["power_dev"] = named["current_a"] = 0.0
    return [named[n] for n in FEATURES[kind]]


def _noisy(r: Reading, rng: Random, sigma: dict[str, float]) -> Reading:
    """The reading as a noisier sensor (a cheap chamber, a real smoke meter) would give it."""
    changes: dict[str, Any] = {}
    for name, s in sigma.items():
        value = getattr(r, name)
        if value is not None and s > 0:
            changes[name] = (
                max(0.0, value + rng.gauss(0.0, s))
                if name != "temp_c"
                else (value + rng.gauss(0.0, s))
            )
    return replace(r, **changes) if changes else r


def label_records(
    records: Iterable[Decoded], truths: Sequence[GroundTruth], noise: Random | None = None
) -> dict[DeviceKind, Labelled]:
    """Feature rows and labels; with `noise`, features from noisier sensors (per device, up
    to `NOISE`), labels still from what the clean sensor showed."""
    owner = {d: t for t in truths for d in t.device_ids}
    tracker = FeatureTracker()
    noisy_tracker = FeatureTracker()
    cool_rng = Random(len(truths))  # noqa: S311 - seeded on purpose
    sigmas: dict[str, dict[str, float]] = {}
    rows: dict[DeviceKind, list[list[float]]] = {k: [] for k in FEATURES}
    ys: dict[DeviceKind, list[float]] = {k: [] for k in FEATURES}
    names: dict[DeviceKind, list[str]] = {k: [] for k in FEATURES}
    for r in records:
        if not isinstance(r, Reading):
            continue
        row = tracker.update(r)
        if row is None:
            continue
        truth = owner.get(r.device_id)
        y = _label(r.kind, r, row, truth)
        if noise is not None and r.kind is DeviceKind.SMOKE:
            sigma = sigmas.get(r.device_id)
            if sigma is None:
                sigma = sigmas[r.device_id] = {k: noise.uniform(0, s) for k, s in NOISE.items()}
            row = noisy_tracker.update(_noisy(r, noise, sigma)) or row
        if np.isnan(y):
            continue
        rows[r.kind].append(row)
        ys[r.kind].append(y)
        names[r.kind].append(truth.scenario if truth is not None else "")
        cool = _cool_copy(r.kind, row, cool_rng) if y == 1.0 else None
        if cool is not None:
            rows[r.kind].append(cool)
            ys[r.kind].append(1.0)
            names[r.kind].append(f"{names[r.kind][-1]}+cool")
    return {
        k: Labelled(np.array(rows[k], dtype=np.float64).reshape(-1, len(FEATURES[k])),
                    np.array(ys[k]), tuple(names[k]))
        for k in FEATURES
    }  # fmt: skip


def labelled(seeds: Sequence[int], world: Subdistrict | None = None) -> dict[DeviceKind, Labelled]:
    """Labelled feature rows of the whole library, for each seed, stacked per device kind."""
    world = world or generate(1)
    parts: dict[DeviceKind, list[Labelled]] = {k: [] for k in FEATURES}
    for seed in seeds:
        records, truths = scenario_run(seed, world)
        noise = Random(f"noise:{seed}") if seed % 2 else None  # noqa: S311 - seeded on purpose
        for kind, part in label_records(records, truths, noise).items():
            parts[kind].append(part)
    return {
        k: Labelled(np.vstack([p.x for p in ps]), np.concatenate([p.y for p in ps]),
                    tuple(s for p in ps for s in p.scenarios))
        for k, ps in parts.items()
    }  # fmt: skip
