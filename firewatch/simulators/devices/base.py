"""What every device kind shares: identity, message counter, drifting clock, heartbeat, will.

>>> from datetime import UTC, datetime
>>> from random import Random
>>> t0 = datetime(2026, 5, 1, 4, 0, tzinfo=UTC)
>>> profile = Profile(600, 0.0, 0.0, False, False, "SD-2.4.1", 80.0, -85.0)
>>> d = Device("SMK-V0001-01", DeviceKind.SMOKE, profile, Random(1), synced_at=t0)
>>> d.status(t0).payload
b'{"ts":"2026-05-01T12:00:00.000+08:00","seq":0,"battery_pct":80.0,"rssi_dbm":-82.0,"fw":"SD-2.4.1"}'
>>> d.status(t0).payload[:45], d.reboot(t0)[0].payload, d.seq
(b'{"ts":"2026-05-01T12:00:00.000+08:00","seq":1', b'online', 0)
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from random import Random
from typing import Any, Final

from firewatch.kernel import topics
from firewatch.kernel.contract import DeviceKind, MessageType
from firewatch.simulators import curves
from firewatch.simulators.records import Message

Payload = dict[str, Any]
LOCAL: Final = timezone(timedelta(hours=8))  # devices in the field write China Standard Time
EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
MS: Final = timedelta(milliseconds=1)

_FW: Final = {
    DeviceKind.SMOKE: ("SD-2.3.7", "SD-2.4.1", "NB-SMK-1.9.2"),
    DeviceKind.CHARGING: ("CP-4.0.3", "CP-4.1.0"),
    DeviceKind.ELEVATOR: ("EV-AI-3.2.0", "EV-AI-3.3.1"),
    DeviceKind.OCCUPANCY: ("MMW-1.0.8", "PIR-2.2.0"),
    DeviceKind.GAS: ("GD-3.1.4", "NB-GAS-2.0.6"),
}
_BATTERY_SHARE: Final = {  # share of devices that run on batteries (the rest on mains)
    DeviceKind.SMOKE: 0.85,
    DeviceKind.CHARGING: 0.0,
    DeviceKind.ELEVATOR: 0.0,
    DeviceKind.OCCUPANCY: 0.6,
    DeviceKind.GAS: 0.2,  # kitchen detectors mostly hang on the mains beside the valve's box
}


def encode(body: Payload) -> bytes:
    """Compact UTF-8 JSON, in the key order written, never NaN: what firmware sends."""
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


@dataclass(frozen=True, slots=True)
class Profile:
    """How one device differs from its siblings: timing, clock quality, firmware, power."""

    heartbeat_s: int
    offset_s: float  # clock error right after a time sync
    drift_ppm: float  # how fast the error grows: cheap crystals are 20-100 ppm
    epoch_ms: bool  # `ts` as epoch milliseconds rather than RFC 3339
    echo_id: bool  # firmware that repeats its `device_id` in the payload
    fw: str
    battery_pct: float | None  # None: mains powered
    rssi_dbm: float


def profile_for(kind: DeviceKind, heartbeat_s: int, rng: Random) -> Profile:
    battery = round(rng.uniform(40, 100), 1) if rng.random() < _BATTERY_SHARE[kind] else None
    return Profile(
        heartbeat_s=heartbeat_s,
        offset_s=rng.uniform(-2.0, 2.0) if rng.random() < 0.95 else rng.uniform(-90.0, 90.0),
        drift_ppm=rng.uniform(-60.0, 60.0),
        epoch_ms=rng.random() < 0.4,
        echo_id=rng.random() < 0.3,
        fw=rng.choice(_FW[kind]),
        battery_pct=battery,
        rssi_dbm=round(rng.uniform(-110.0, -65.0)),
    )


class Device:
    """One device's identity and bookkeeping; the kinds add what they measure."""

    def __init__(
        self,
        device_id: str,
        kind: DeviceKind,
        profile: Profile,
        rng: Random,
        *,
        synced_at: datetime,
    ) -> None:
        self.device_id = device_id
        self.kind = kind
        self.profile = profile
        self.rng = rng
        self.seq = 0
        self.battery_pct = profile.battery_pct
        self._low_battery = False
        self._offset_s = profile.offset_s
        self._synced_at = synced_at

    # -- time and counters ----------------------------------------------------------------------

    def device_time(self, now: datetime) -> datetime:
        """What this device's clock says at the true time `now`: offset plus drift since sync."""
        drift = (now - self._synced_at).total_seconds() * self.profile.drift_ppm * 1e-6
        return now + timedelta(seconds=self._offset_s + drift)

    def _stamp(self, now: datetime) -> Payload:
        seen = self.device_time(now)
        ts: str | int
        if self.profile.epoch_ms:
            ts = (seen - EPOCH) // MS
        else:
            ts = seen.astimezone(LOCAL).isoformat(timespec="milliseconds")
        head: Payload = {"ts": ts, "seq": self.seq}
        self.seq += 1
        if self.profile.echo_id:
            head["device_id"] = self.device_id
        return head

    def message(self, now: datetime, message_type: MessageType, body: Payload) -> Message:
        """A reading, event or status: the common fields first, then the kind's own."""
        topic = topics.device(self.kind, self.device_id, message_type)
        return Message(now, topic, encode({**self._stamp(now), **body}))

    def event(self, now: datetime, name: str, **fields: Any) -> Message:
        return self.message(now, MessageType.EVENT, {"event": name, **fields})

    # -- heartbeat and availability -------------------------------------------------------------

    def status_payload(self) -> Payload:
        body: Payload = {}
        if self.battery_pct is not None:
            body["battery_pct"] = round(self.battery_pct, 1)
        body["rssi_dbm"] = float(round(self.profile.rssi_dbm + self.rng.gauss(0, 2)))
        body["fw"] = self.profile.fw
        return body

    def status(self, now: datetime) -> Message:
        return self.message(now, MessageType.STATUS, self.status_payload())

    def check_battery(self, now: datetime) -> list[Message]:
        """The low-battery warning, once, when the charge falls below the device's limit (for
        the kinds whose events include `low_battery`)."""
        if self.battery_pct is None or self._low_battery:
            return []
        if self.battery_pct < curves.LOW_BATTERY_PCT:
            self._low_battery = True
            return [self.event(now, "low_battery")]
        return []

    def online(self, now: datetime) -> Message:
        topic = topics.availability(self.kind, self.device_id)
        return Message(now, topic, b"online", retain=True)

    def last_will(self) -> tuple[str, bytes, int, bool]:
        """(topic, payload, qos, retain) the publisher sets as this device's Last Will."""
        return topics.availability(self.kind, self.device_id), b"offline", 1, True

    def will(self, now: datetime) -> Message:
        """The Last Will as the broker publishes it when the connection is lost."""
        topic, payload, qos, retain = self.last_will()
        return Message(now, topic, payload, qos=qos, retain=retain, will=True)

    def reboot(self, now: datetime) -> list[Message]:
        """Power cycle: the counter restarts at 0, the clock re-syncs, `online` is announced."""
        self.seq = 0
        self._offset_s = self.rng.uniform(-0.5, 0.5)
        self._synced_at = now
        return [self.online(now)]
