"""Alerts, devices and signals made by hand for the table-driven decision tests."""

from __future__ import annotations

from datetime import timedelta

from firewatch.alerting.records import (
    AlertKind,
    AlertState,
    AlertView,
    DeviceView,
    Policy,
    Signal,
    Source,
)
from firewatch.alerting.settings import VerifySettings
from firewatch.kernel.contract import Level
from tests.alerting.support import T0

V = VerifySettings()  # persist 30 s, corroborate 60 s, PAS 15 s / 180 s, expiry 1800 s
S = timedelta(seconds=1)


def dev(device_id: str, since: float | None = 0, *, alarming: bool = True, last: float = 0,
        level: Level = Level.ORANGE, muted: str | None = None,
        cleared: bool = False) -> DeviceView:  # fmt: skip
    """A device of an alert; times in seconds after T0."""
    return DeviceView(device_id, level, muted, T0, T0 + last * S,
                      None if since is None else T0 + since * S, alarming,
                      cleared_at=T0 + last * S if cleared else None)  # fmt: skip


def alert(*devices: DeviceView, policy: Policy = Policy.PERSISTENCE,
          state: AlertState = AlertState.PENDING, kind: AlertKind = AlertKind.FIRE,
          criteria: dict[str, float] | None = None, contact_ack: float | None = None,
          level: Level = Level.ORANGE, last: float = 0) -> AlertView:  # fmt: skip
    crit = {k: T0 + v * S for k, v in (criteria or {"smoke": 0}).items()}
    return AlertView("AL-1", "V-1", kind, level, state, policy, T0, None, None,
                     None if contact_ack is None else T0 + contact_ack * S, T0 + last * S,
                     crit, devices)  # fmt: skip


def sig(*devices: str, level: Level = Level.ORANGE, kind: AlertKind = AlertKind.FIRE) -> Signal:
    return Signal(kind, level, "V-1", devices, frozenset({"smoke"}), Source.RULE, "r", 1, T0, "")
