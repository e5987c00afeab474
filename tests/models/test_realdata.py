"""The real measurements replayed through the models stage (../shared/data, never copied)."""

from __future__ import annotations

import pytest

from firewatch.models.evaluate import evaluate_real, replay_real
from firewatch.models.realdata import (
    DATA_DIR,
    fsri_cell,
    nist,
    nist_first_alarm_locations,
    nist_origin,
)
from firewatch.models.stage import ModelSet

pytestmark = pytest.mark.skipif(
    not DATA_DIR.exists(), reason=f"the shared real data is not at {DATA_DIR}"
)


def test_the_replays_read_what_the_readme_says() -> None:
    assert nist_first_alarm_locations()["SDC05"] == ("B", "D")
    assert {t: nist_origin(t) for t in ("SDC02", "SDC05", "SDC33", "SDC35")} == {
        "SDC02": "E", "SDC05": "B", "SDC33": "E", "SDC35": "E"}  # fmt: skip
    replay = nist("SDC02", "E")
    assert replay.reference_s == 78 and replay.readings[0].smoke_obs is not None
    cell = fsri_cell()
    assert cell.reference_s == 1701 and 1690 <= (cell.heating_end_s or 0) < 1701
    heating = [r.temp_c or 0.0 for r in cell.readings
               if 0 <= (r.ts - cell.start).total_seconds() < (cell.heating_end_s or 0)]  # fmt: skip
    assert heating and max(heating) < 30  # the heated cell (166 °C by then) is not replayed


@pytest.mark.slow
def test_every_nist_fire_is_recognised_at_its_room_of_origin_before_the_photo_alarm(
    trained: ModelSet,
) -> None:
    results, origin = evaluate_real(trained)
    for r in results:
        if r.test != "FSRI" and origin[r.test] == r.location:
            assert r.warned_s is not None and r.warned_s <= r.reference_s, r


def test_the_cell_warns_by_its_runaway_onset_and_never_while_it_is_heated(
    trained: ModelSet,
) -> None:
    cell = fsri_cell()
    warned, _, changes = replay_real(cell, trained)
    assert warned is not None and warned <= cell.reference_s
    end = cell.heating_end_s or cell.reference_s
    assert not [(t, level) for t, level in changes if 0 <= t < end and level in ("orange", "red")]
