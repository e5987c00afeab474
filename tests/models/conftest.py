"""Models trained once per test session, on a few seeds the tests never evaluate."""

from __future__ import annotations

import pytest

from firewatch.models.evaluate import START, train_models
from firewatch.models.stage import ModelSet
from firewatch.simulators.subdistrict import Subdistrict, generate

TRAIN_SEEDS = tuple(range(101, 109))


@pytest.fixture(scope="session")
def world() -> Subdistrict:
    return generate(1)


@pytest.fixture(scope="session")
def trained(world: Subdistrict) -> ModelSet:
    return train_models(START, TRAIN_SEEDS, world)
