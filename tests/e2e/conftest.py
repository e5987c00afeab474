"""Each end-to-end test gets its own Mosquitto: retained availability and Last Wills of its
devices, and the engine's commands, never reach another test's engine."""

from __future__ import annotations

import pytest

from tests.support.fixtures import PrivateMosquittoFactory
from tests.support.mosquitto import PrivateMosquitto


@pytest.fixture
def broker(private_mosquitto: PrivateMosquittoFactory) -> PrivateMosquitto:
    return private_mosquitto()
