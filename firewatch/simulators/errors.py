"""The simulators' exceptions; each message names the broker, file or parameter that failed.

SimulatorError          base of every simulators error
 ├── PlayError          a scenario player cannot reach the broker, is refused or not acknowledged
 ├── DeviceListError    a device list cannot be used for a load run
 ├── ScheduleError      a load rate schedule that cannot be run
 ├── LoadBrokerError    the private Mosquitto for a load run could not be started
 ├── DrainError         the counting subscriber could not connect, subscribe or keep going
 └── LoadError          a load run could not be done as asked (`report`: what was counted)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from firewatch.simulators.load.report import LoadReport


class SimulatorError(Exception):
    """Base of the simulators' errors."""


class PlayError(SimulatorError):
    """The broker could not be reached, refused the player, or did not acknowledge in time; the
    message names the player's connection."""


class DeviceListError(SimulatorError):
    """A device list cannot be used for load: the message names the file or the bad entry."""


class ScheduleError(SimulatorError):
    """A rate schedule that cannot be run; the message names the bad parameter."""


class LoadBrokerError(SimulatorError):
    """The private Mosquitto could not be started; the message says why (and where its log is)."""


class DrainError(SimulatorError):
    """The counting subscriber could not connect, subscribe or keep its connection; the message
    names the subscriber and the broker."""


class LoadError(SimulatorError):
    """The load run could not be done as asked (unreachable or refusing broker, a lost
    connection); `report` holds what was counted up to the failure, when anything was."""

    def __init__(self, message: str, report: LoadReport | None = None) -> None:
        super().__init__(message)
        self.report = report
