"""Every scenario by name, in the order a run of `all` starts them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from firewatch.simulators.records import Script
from firewatch.simulators.scenarios import (
    charging,
    fires,
    gas,
    nuisances,
    people,
    runaway,
    scans,
    troubles,
)
from firewatch.simulators.scenarios.context import Context, ScenarioSpec


def _spec(
    build: Callable[[Context], Script], local_start: tuple[int, int] | None = None
) -> ScenarioSpec:
    summary = (build.__doc__ or build.__name__).strip().splitlines()[0]
    return ScenarioSpec(build.__name__, summary, build, local_start)


LIBRARY: Final[dict[str, ScenarioSpec]] = {
    spec.name: spec
    for spec in (
        _spec(fires.flaming_fire),
        _spec(fires.smouldering_fire),
        _spec(nuisances.cooking_fumes),
        _spec(nuisances.shower_steam),
        _spec(nuisances.dust_and_insects),
        _spec(nuisances.test_and_hush),
        _spec(troubles.tamper),
        _spec(troubles.low_battery),
        _spec(troubles.offline),
        _spec(troubles.stuck_sensor),
        _spec(troubles.slow_drift),
        _spec(runaway.thermal_runaway),
        _spec(charging.normal_charging),
        _spec(charging.overcurrent),
        _spec(charging.indoor_charging, local_start=(22, 30)),
        _spec(people.ebike_in_lift, local_start=(18, 30)),
        _spec(people.sleeping_in_shop, local_start=(21, 0)),
        _spec(people.night_shift, local_start=(21, 0)),
        _spec(scans.inspection_rectification),
        # Added after the first library: last, so that every scenario before keeps its start.
        _spec(gas.gas_leak),
        _spec(gas.cooking_vapour),
    )
}
