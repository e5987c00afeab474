"""Pytest fixtures for real brokers; import them into conftest.py.

Every broker a test starts is stopped when the test ends, whatever the outcome.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from typing import Protocol

import pytest

from .mosquitto import Acl, PrivateMosquitto, Users, mosquitto_installed, start_private_mosquitto


class PrivateMosquittoFactory(Protocol):
    """Start one more private Mosquitto: `private_mosquitto(users={...}, acl={...})`."""

    def __call__(self, users: Users | None = None, acl: Acl | None = None) -> PrivateMosquitto: ...


@pytest.fixture
def private_mosquitto(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[PrivateMosquittoFactory]:
    """A factory of private Mosquitto brokers, each on its own port and data directory.

    users: {name: password}; acl: {name: [("readwrite" | "read" | "write", "topic/pattern")]}.
    """
    if not mosquitto_installed():
        pytest.skip("mosquitto and mosquitto_passwd are not installed (package mosquitto)")
    with ExitStack() as stack:

        def start(users: Users | None = None, acl: Acl | None = None) -> PrivateMosquitto:
            data_dir = tmp_path_factory.mktemp("mosquitto")
            return stack.enter_context(start_private_mosquitto(data_dir, users=users, acl=acl))

        yield start
