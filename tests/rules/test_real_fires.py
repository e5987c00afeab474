"""Real flaming fires (NIST home smoke alarm tests SDC02, 05, 33, 35): the room of origin's
ceiling channels — smoke meter SME_1 (optical density per metre) and thermocouple TCE_1 —
replayed as one multi-criteria detector that reports every sample but never alarms itself.

The library must recognise each fire from them no later than the room's own photoelectric
alarms did (`Activation_Times.csv`, same time base), and without its own alarm to lean on.
"""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path

import pytest

from firewatch.ingest.stream import Batch
from firewatch.rules.engine import RuleEngine
from firewatch.rules.evidence import Category
from firewatch.rules.testing import reading
from tests.rules.helpers import ZONE, default_library

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "nist-smoke-alarms-flaming"
T0 = datetime(2026, 5, 1, 2, 0, tzinfo=UTC).timestamp()

pytestmark = pytest.mark.skipif(not DATA.is_dir(), reason=f"{DATA} is not there")


def _photo_alarms(test: str) -> list[float]:
    """When the photoelectric alarms at location E (the room of origin) sounded."""
    with (DATA / "Activation_Times.csv").open(newline="") as f:
        header, seconds = list(csv.reader(f))[:2]
    return [float(s) for h, s in zip(header, seconds, strict=True)
            if h.startswith(f"{test}-Pho") and h.endswith("E")]  # fmt: skip


@pytest.mark.parametrize("test", ["SDC02", "SDC05", "SDC33", "SDC35"])
def test_a_real_flaming_fire_is_recognised_no_later_than_its_rooms_photoelectric_alarms(
    test: str,
) -> None:
    engine = RuleEngine(default_library(), zone=ZONE)
    found = []
    with (DATA / f"NIST_Smoke_Alarms_{test}.csv").open(newline="") as f:
        for n, row in enumerate(csv.DictReader(f)):
            od = max(0.0, float(row["SME_1"]))
            r = reading("SMK-E", T0 + float(row["TIME"]), seq=n, alarm=False,
                        smoke_obs=round(100 * (1 - 10**-od), 2),
                        temp_c=round(float(row["TCE_1"]), 1))  # fmt: skip
            found += engine.evaluate(Batch((r,), (), r.ts))
    fire = [e.at.timestamp() - T0 for e in found if e.category is Category.FIRE]
    photo = _photo_alarms(test)
    assert photo and fire, (photo, fire)
    assert fire[0] <= max(photo), f"{test}: first finding at {fire[0]:.0f} s, alarms {photo}"
    assert fire[0] <= 160  # within a few minutes of ignition in every test


CELLS = DATA.parent / "ulfsri-li-ion-thermal-runaway" / "Cell_Level_Experiment.csv"
ONSET_S = 1701.0  # the labelled thermal runaway onset


@pytest.mark.skipif(not CELLS.is_file(), reason=f"{CELLS} is not there")
def test_a_real_cell_runaway_is_recognised_at_its_onset_and_not_during_the_heating() -> None:
    # UL FSRI: thirty 18650 cells, one heated from outside until they run away, 1 Hz. Replayed
    # as a charging cabinet's port reporting every 5 s: hydrocarbons (THC) as VOC, the median
    # of the nine cell thermocouples as the pack surface (not the heater's own spot, cell 5).
    # 1,700 s of heating come first, on which nothing may fire.
    engine = RuleEngine(default_library(), zone=ZONE)
    found = []
    with CELLS.open(newline="") as f:
        for n, row in enumerate(csv.DictReader(f)):
            if not row["Time (s)"] or n % 5:
                continue  # the rows after the run have no time
            cells = sorted(float(v) for k, v in row.items() if k.startswith("Cell") and v)
            r = reading("CHG-1", T0 + float(row["Time (s)"]), kind="charging", seq=n, port=3,
                        state="charging", current_a=2.0, voltage_v=220.0, power_w=440.0,
                        temp_c=round(cells[len(cells) // 2], 1), voc_ppm=round(float(row["THC (ppm)"]), 1))  # fmt: skip
            found += engine.evaluate(Batch((r,), (), r.ts))
    fire = [(e.at.timestamp() - T0, e.rule_id) for e in found if e.category is Category.FIRE]
    assert fire, "the runaway was not recognised"
    first, rule = fire[0]
    assert ONSET_S - 10 <= first <= ONSET_S + 10, (first, rule)
    assert rule == "charging.offgas"
