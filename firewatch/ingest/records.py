"""The records of the ingest stage: what decoding reads (registry entries) and what it gives.

Every record is a frozen, slotted dataclass; the decoded ones match the tables of
`firewatch/db/migrations` column for column, plus the registry enrichment (`community`, `grid`,
`station_id`) that the detection stages need next to each reading. Times are aware datetimes:
`ts` is the device's time converted to UTC, `received_at` the engine's time of receipt.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from firewatch.ingest.reasons import RejectReason
from firewatch.kernel.contract import DeviceKind

# --- What decoding reads -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class VenueInfo:
    """A registry venue, reduced to what a decoded record carries."""

    venue_id: str
    community: str  # 居委
    grid: str
    station_id: str  # the responsible micro fire station


@dataclass(frozen=True, slots=True)
class DeviceInfo:
    """A registry device with its venue's enrichment already joined in."""

    device_id: str
    kind: DeviceKind
    venue_id: str
    community: str
    grid: str
    station_id: str
    heartbeat_s: int


class RegistryView(Protocol):
    """The registry as decoding sees it: look-ups by id, None for an id it does not know."""

    def device(self, device_id: str) -> DeviceInfo | None: ...

    def venue(self, venue_id: str) -> VenueInfo | None: ...


class StaticRegistry:
    """A `RegistryView` over fixed lists, for tests, doctests and replays.

    >>> view = StaticRegistry(venues=[VenueInfo("V-1", "Xinhua", "G-03", "MS-1")])
    >>> view.venue("V-1").grid, view.device("nope")
    ('G-03', None)
    """

    __slots__ = ("_devices", "_venues")

    def __init__(
        self, devices: Iterable[DeviceInfo] = (), venues: Iterable[VenueInfo] = ()
    ) -> None:
        self._devices = {info.device_id: info for info in devices}
        self._venues = {info.venue_id: info for info in venues}

    def device(self, device_id: str) -> DeviceInfo | None:
        return self._devices.get(device_id)

    def venue(self, venue_id: str) -> VenueInfo | None:
        return self._venues.get(venue_id)


# --- What decoding gives -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Reading:
    """One `reading` message (table `reading`); the metric columns of other kinds stay None.

    Its metric attributes are every kind's reading fields (`kernel.kinds.reading_columns`),
    in that order: the table is written and read back by them."""

    ts: datetime
    received_at: datetime
    device_id: str
    kind: DeviceKind
    venue_id: str
    community: str
    grid: str
    station_id: str
    seq: int
    # smoke (temp_c and co_ppm also charging)
    smoke_obs: float | None = None  # obscuration, % per metre
    temp_c: float | None = None  # °C
    co_ppm: float | None = None
    humidity_pct: float | None = None  # % RH
    alarm: bool | None = None  # the detector's own alarm state
    # charging
    port: int | None = None
    state: str | None = None  # idle, charging, full, fault
    current_a: float | None = None
    voltage_v: float | None = None
    power_w: float | None = None
    energy_wh: float | None = None  # since charge start
    h2_ppm: float | None = None
    voc_ppm: float | None = None
    # occupancy
    occupied: bool | None = None
    people: int | None = None
    still_minutes: int | None = None  # presence without movement
    # gas
    lel_pct: float | None = None  # % of the lower explosive limit
    valve: str | None = None  # open, closed: the shut-off valve, where one is fitted
    extra: dict[str, Any] = field(default_factory=dict)
    """Fields the contract does not list (newer firmware), stored as jsonb."""


@dataclass(frozen=True, slots=True)
class DeviceEvent:
    """One `event` message (table `device_event`); its attributes after `event` are every
    kind's event fields (`kernel.kinds.event_columns`), in that order."""

    ts: datetime
    received_at: datetime
    device_id: str
    kind: DeviceKind
    venue_id: str
    community: str
    grid: str
    station_id: str
    seq: int
    event: str
    port: int | None = None  # charging
    confidence: float | None = None  # 0..1: ebike_detected, ebike_load_detected
    command_id: str | None = None  # the `id` of the command a `power_off`/`valve_closed` answers
    car: str | None = None  # elevator
    floor: int | None = None  # elevator
    blocked: bool | None = None  # elevator: door held and a voice warning played
    lel_pct: float | None = None  # gas: the concentration that raised the alarm
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class DeviceStatus:
    """One `status` heartbeat (table `device_status`)."""

    ts: datetime
    received_at: datetime
    device_id: str
    kind: DeviceKind
    venue_id: str
    community: str
    grid: str
    station_id: str
    seq: int
    battery_pct: float | None = None  # None for mains devices
    rssi_dbm: float | None = None
    fw: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Availability:
    """A retained `online` / `offline` (the Last Will); it has no device time and no seq."""

    received_at: datetime
    device_id: str
    kind: DeviceKind
    venue_id: str
    community: str
    grid: str
    station_id: str
    online: bool


@dataclass(frozen=True, slots=True)
class ScanItem:
    """One checklist line of a scan; `extra` keeps keys the contract does not list."""

    item: str
    ok: bool
    note: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class VenueScan:
    """One enterprise-code (企业码) scan (table `venue_scan`)."""

    ts: datetime
    received_at: datetime
    venue_id: str
    community: str
    grid: str
    station_id: str
    seq: int
    scan_type: str  # inspection, self_check, rectification
    inspector: str
    items: tuple[ScanItem, ...]
    case_id: str | None = None  # required with rectification
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Rejected:
    """A message not accepted (table `rejected_message`): its raw bytes and why."""

    topic: str
    payload: bytes
    received_at: datetime
    reason: RejectReason
    detail: str  # names the field and the bad value, e.g. "smoke_obs: 500.0 is outside 0..100 %/m"


Decoded = Reading | DeviceEvent | DeviceStatus | Availability | VenueScan
"""Everything `decode` accepts."""
