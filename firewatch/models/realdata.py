"""The real measurements in ../shared/data, replayed as readings (see its README.md).

Read from the shared folder, never copied into the project. Each test becomes the readings one
device would have sent, preceded by ten quiet minutes made of the record's first samples
replayed in turn (a detector on a ceiling has been reporting, with its own noise, long before a
fire starts; the recordings begin at ignition or at the start of heating):

- NIST home smoke alarm tests SDC02/05/33/35: one location's ceiling smoke meter (`SM<L>_1`,
  optical density per metre, turned into obscuration %/m), ceiling thermocouple (`TC<L>_1`) and
  CO cell (`CO1<L>`, where the layout has one; negative offsets clipped to 0) as a multi-criteria
  smoke detector, compared with the real photoelectric alarms at that location
  (`Activation_Times.csv`).
- UL FSRI 18650 cell experiment: a charging cabinet's port — the hottest of the eight cells that
  do not touch the heater (cell 5 is the one heated from outside, which a charging pack never
  is), total hydrocarbons as `voc_ppm`, and CO and H2 flows turned into ppm of the exhaust (its
  flow is found from the hydrocarbon flow over the hydrocarbon concentration). Runaway is
  labelled from 1,701 s; the 1,700 s before are the heating phase.
"""

from __future__ import annotations

import csv
import math
import statistics
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Final

from firewatch.ingest.records import Reading
from firewatch.kernel.contract import DeviceKind
from firewatch.models.errors import DataMissingError

DATA_DIR: Final = Path(__file__).resolve().parents[3] / "shared" / "data"
NIST_DIR: Final = "nist-smoke-alarms-flaming"
FSRI_FILE: Final = "ulfsri-li-ion-thermal-runaway/Cell_Level_Experiment.csv"
NIST_TESTS: Final = ("SDC02", "SDC05", "SDC33", "SDC35")
START: Final = datetime(2026, 5, 1, 2, 0, tzinfo=UTC)
LEAD_IN_S: Final = 600
LEAD_IN_STEP_S: Final = 60
HEATED_CELL: Final = "Cell 5 Temperature (C)"


@dataclass(frozen=True, slots=True)
class Replay:
    """One real test as readings, with what really happened in it."""

    name: str  # e.g. "SDC05-D" or "FSRI-cell"
    readings: tuple[Reading, ...]
    start: datetime  # the test's t = 0 (ignition, or the start of heating)
    reference_s: float  # NIST: first photoelectric alarm at the location; FSRI: runaway onset
    reference: str  # what the reference is, e.g. "SDC05-Pho1D at 42 s"
    heating_end_s: float | None = None  # FSRI: when the hydrocarbons leave their baseline


def _rows(path: Path) -> tuple[list[str], list[list[str]]]:
    if not path.exists():
        raise DataMissingError(f"real data file {path} is missing (see ../shared/data/README.md)")
    with path.open(newline="", encoding="utf-8") as fh:
        rows = [r for r in csv.reader(fh) if r and r[0].strip()]
    return [c.strip() for c in rows[0]], rows[1:]


def obscuration(od_per_m: float) -> float:
    """Optical density per metre to obscuration in % per metre, within 0..100."""
    return min(100.0, max(0.0, 100.0 * (1.0 - math.pow(10.0, -od_per_m))))


def photo_alarms(data: Path = DATA_DIR) -> dict[str, dict[str, float]]:
    """{test: {location: first photoelectric alarm s}} from Activation_Times.csv."""
    head, rows = _rows(data / NIST_DIR / "Activation_Times.csv")
    out: dict[str, dict[str, float]] = {}
    for name, value in zip(head[1:], rows[0][1:], strict=True):
        test, unit = name.split("-", 1)
        if unit.startswith("Pho"):
            where = out.setdefault(test, {})
            where[unit[-1]] = min(float(value), where.get(unit[-1], math.inf))
    return out


def _reading(device_id: str, kind: DeviceKind, at: datetime, seq: int, **values: object) -> Reading:
    return Reading(at, at, device_id, kind, f"V-{device_id}", "real-data", "real-data",
                   "real-data", seq, **values)  # type: ignore[arg-type]  # fmt: skip


def nist(test: str, location: str, data: Path = DATA_DIR) -> Replay:
    """One NIST test's channels at one location (A-E) as a smoke detector's readings."""
    head, rows = _rows(data / NIST_DIR / f"NIST_Smoke_Alarms_{test}.csv")
    col = {name: i for i, name in enumerate(head)}
    smoke, temp, co = f"SM{location}_1", f"TC{location}_1", f"CO1{location}"
    if smoke not in col or temp not in col:
        raise DataMissingError(f"{test} has no {smoke} or {temp} column")
    values = [[float(v) for v in r] for r in rows]

    def channels(r: list[float]) -> dict[str, object]:
        out: dict[str, object] = {"smoke_obs": round(obscuration(r[col[smoke]]), 2),
                                  "temp_c": round(r[col[temp]], 1), "alarm": False}  # fmt: skip
        if co in col:
            out["co_ppm"] = round(max(0.0, r[col[co]]), 1)
        return out

    device = f"NIST-{test}-{location}"
    first = [channels(r) for r in values[:3]]
    out = [
        _reading(device, DeviceKind.SMOKE, START + timedelta(seconds=s), n, **first[n % 3])
        for n, s in enumerate(range(0, LEAD_IN_S, LEAD_IN_STEP_S))
    ]
    t0 = START + timedelta(seconds=LEAD_IN_S)
    for r in values:
        out.append(_reading(device, DeviceKind.SMOKE, t0 + timedelta(seconds=r[col["TIME"]]),
                            len(out), **channels(r)))  # fmt: skip
    alarms = photo_alarms(data)[test]
    return Replay(
        f"{test}-{location}",
        tuple(out),
        t0,
        alarms[location],
        f"first photoelectric alarm at {location}: {alarms[location]:g} s",
    )


def nist_first_alarm_locations(data: Path = DATA_DIR) -> dict[str, tuple[str, ...]]:
    """For each test, the location(s) of its first photoelectric alarm."""
    out = {}
    for test, where in photo_alarms(data).items():
        first = min(where.values())
        out[test] = tuple(sorted(loc for loc, s in where.items() if s == first))
    return out


ORIGIN_RISE_C: Final = 5.0


def nist_origin(test: str, data: Path = DATA_DIR) -> str:
    """The room of fire origin: the alarm location whose ceiling warms by 5 °C first.

    Chosen from the temperatures alone, before any detection is run, so the location the
    evaluation replays does not depend on how the engine does there.
    """
    head, rows = _rows(data / NIST_DIR / f"NIST_Smoke_Alarms_{test}.csv")
    col = {name: i for i, name in enumerate(head)}
    values = [[float(v) for v in r] for r in rows]
    first: dict[str, float] = {}
    for location in photo_alarms(data)[test]:
        tc = col.get(f"TC{location}_1")
        if tc is None:
            continue
        base = statistics.median(r[tc] for r in values[:3])
        hot = [r[col["TIME"]] for r in values if r[tc] >= base + ORIGIN_RISE_C]
        first[location] = hot[0] if hot else math.inf
    return min(sorted(first), key=lambda loc: first[loc])


def fsri_cell(data: Path = DATA_DIR, step_s: int = 1) -> Replay:
    """The UL FSRI cell experiment as one charging port's readings, every `step_s` seconds."""
    head, rows = _rows(data / FSRI_FILE)
    col = {name: i for i, name in enumerate(head)}
    cells = [c for c in head if c.startswith("Cell ") and c != HEATED_CELL]
    table = [r for r in rows if r[col["Time (s)"]].strip()]
    onset = next(float(r[col["Time (s)"]]) for r in table if r[col["Thermal Runaway"]] == "TRUE")
    thc, thc_flow = col["THC (ppm)"], col["THC Flow (L/min)"]
    ratios = [float(r[thc_flow]) / float(r[thc]) for r in table if float(r[thc]) > 50.0]
    exhaust_l_min = statistics.median(ratios) * 1e6  # L/min of exhaust per unit fraction

    def ppm(r: list[str], flow: str) -> float:
        return round(max(0.0, float(r[col[flow]]) / exhaust_l_min * 1e6), 1)

    def channels(r: list[str]) -> dict[str, object]:
        return {
            "port": 1, "state": "full", "current_a": 0.0, "voltage_v": 220.0, "power_w": 0.5,
            "temp_c": round(max(float(r[col[c]]) for c in cells), 1),
            "voc_ppm": round(max(0.0, float(r[thc])), 1),
            "co_ppm": ppm(r, "CO Flow (L/min)"), "h2_ppm": ppm(r, "H2 Flow (L/min)"),
        }  # fmt: skip

    device = "FSRI-cell"
    first_minute = [channels(r) for r in table[:60]]
    calm = statistics.median(float(r[thc]) for r in table if float(r[col["Time (s)"]]) < 1000)
    vents = next(float(r[col["Time (s)"]]) for r in table if float(r[thc]) > calm + 1.0)
    out = [
        _reading(
            device,
            DeviceKind.CHARGING,
            START + timedelta(seconds=s),
            n,
            **first_minute[n % len(first_minute)],
        )
        for n, s in enumerate(range(0, LEAD_IN_S, LEAD_IN_STEP_S // 6))
    ]
    t0 = START + timedelta(seconds=LEAD_IN_S)
    for r in table:
        t = float(r[col["Time (s)"]])
        if int(t) % step_s == 0:
            out.append(_reading(device, DeviceKind.CHARGING, t0 + timedelta(seconds=t), len(out),
                                **channels(r)))  # fmt: skip
    return Replay(
        device, tuple(out), t0, onset, f"labelled thermal-runaway onset: {onset:g} s", vents
    )
