"""Load generation: N devices at R QoS 1 messages/s, steady or bursty, every PUBACK counted.

`run_load(host, port, devices, rate, duration_s)` returns a `LoadReport`; `CountingDrain` is a
subscriber that counts what the broker delivers; a private broker for benchmarks and tests is
`firewatch.embedded.load_broker.private_mosquitto()`. See README.md beside this package.
"""

from firewatch.simulators.errors import (
    DeviceListError,
    DrainError,
    LoadBrokerError,
    LoadError,
    ScheduleError,
)
from firewatch.simulators.load.devices import (
    LoadDevice,
    devices_from_registry,
    generate_devices,
)
from firewatch.simulators.load.drain import CountingDrain, DrainResult
from firewatch.simulators.load.payloads import message_type_for, payload
from firewatch.simulators.load.registry import registry_document
from firewatch.simulators.load.report import DeviceCount, LoadReport
from firewatch.simulators.load.runner import LoadProgress, ensure_loopback, run_load
from firewatch.simulators.load.schedule import Burst, Schedule

__all__ = [
    "Burst",
    "CountingDrain",
    "DeviceCount",
    "DeviceListError",
    "DrainError",
    "DrainResult",
    "LoadBrokerError",
    "LoadDevice",
    "LoadError",
    "LoadProgress",
    "LoadReport",
    "Schedule",
    "ScheduleError",
    "devices_from_registry",
    "ensure_loopback",
    "generate_devices",
    "message_type_for",
    "payload",
    "registry_document",
    "run_load",
]
