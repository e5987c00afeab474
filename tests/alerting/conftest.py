"""Fixtures of the alerting tests: the harness on a fresh database with the small registry."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.alerting.support import Harness, seed


@pytest.fixture
def h(fresh_db: str) -> Iterator[Harness]:
    """The stage on a manual clock over a fresh database holding `support.seed`'s registry."""
    seed(fresh_db)
    harness = Harness(fresh_db)
    try:
        yield harness
    finally:
        harness.close()
