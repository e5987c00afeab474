"""A combustible-gas detector in a restaurant kitchen (可燃气体探测器), with or without the
emergency shut-off valve it may be wired to (燃气紧急切断阀).

The sensing element is read every second (`observe`, one sample of the true % LEL); a reading
goes out every minute in a quiet kitchen, every 5 s from 5 % LEL, and at once when the
detector's own alarm changes: it alarms at 20 % LEL (`alarm`, with the value) and clears under
18 % (`alarm_cleared`). A close command (`command`) shuts the valve and is answered with
`valve_closed` carrying the command's id; the gas the valve fed then disperses (the scenario's
curve reads `closed_at`). A detector without a valve has nothing to close and does not answer.

>>> from datetime import UTC, datetime, timedelta
>>> from random import Random
>>> from firewatch.simulators.devices.base import Profile
>>> t0 = datetime(2026, 5, 1, 4, 0, tzinfo=UTC)
>>> p = Profile(300, 0.0, 0.0, True, False, "GD-3.1.4", None, -80.0)
>>> d = GasDetector("GAS-V0001-01", p, Random(1), synced_at=t0, valve=True)
>>> d.observe(t0, 1.0)[0].payload
b'{"ts":1777608000000,"seq":0,"lel_pct":1.4,"alarm":false,"valve":"open"}'
>>> [m.payload[28:] for m in d.observe(t0 + timedelta(seconds=1), 24.0)]
[b'"event":"alarm","lel_pct":24.4}', b'"lel_pct":24.4,"alarm":true,"valve":"open"}']
>>> d.observe(t0 + timedelta(seconds=2), 24.0), d.next_at(t0) - t0
([], datetime.timedelta(seconds=1))
>>> d.command(t0 + timedelta(seconds=3), "CMD-7")[0].payload[28:], d.valve
(b'"event":"valve_closed","id":"CMD-7"}', 'closed')
"""

from __future__ import annotations

from datetime import datetime, timedelta
from random import Random

from firewatch.kernel.contract import DeviceKind, MessageType
from firewatch.simulators import curves
from firewatch.simulators.devices.base import Device, Payload, Profile
from firewatch.simulators.records import Message


class GasDetector(Device):
    def __init__(
        self,
        device_id: str,
        profile: Profile,
        rng: Random,
        *,
        synced_at: datetime,
        valve: bool = True,
    ) -> None:
        super().__init__(device_id, DeviceKind.GAS, profile, rng, synced_at=synced_at)
        self.valve: str | None = "open" if valve else None  # None: no valve fitted
        self.closed_at: datetime | None = None  # when a command last shut the valve
        self.alarm = False
        self.lel_pct = 0.0  # the last sample
        self._due: datetime | None = None  # the next reading (None: at the next sample)

    # -- sensing ---------------------------------------------------------------------------------

    def sense(self, true_lel: float) -> float:
        noisy = true_lel + self.rng.gauss(0, curves.GAS_NOISE_LEL)
        return round(min(100.0, max(0.0, noisy)), 1)

    @property
    def fast(self) -> bool:
        """Reporting at the fast pace: gas at or over GAS_FAST_LEL, or in alarm."""
        return self.alarm or self.lel_pct >= curves.GAS_FAST_LEL

    def next_at(self, now: datetime) -> datetime:
        """The next sample (a reading goes out only when one is due, see `observe`)."""
        return now + timedelta(seconds=curves.GAS_SAMPLE_S)

    # -- deciding and reporting ------------------------------------------------------------------

    def observe(self, now: datetime, true_lel: float) -> list[Message]:
        """Sample the air at `now`: alarm changes as events, then a reading when one is due."""
        was_fast = self.fast
        self.lel_pct = seen = self.sense(true_lel)
        out: list[Message] = []
        if not self.alarm and seen >= curves.GAS_ALARM_LEL:
            self.alarm = True
            out.append(self.event(now, "alarm", lel_pct=seen))
        elif self.alarm and seen < curves.GAS_CLEAR_LEL:
            self.alarm = False
            out.append(self.event(now, "alarm_cleared"))
        due = self._due is None or now >= self._due
        if out or due or (self.fast and not was_fast):
            out.append(self.message(now, MessageType.READING, self.reading_payload()))
            pace = curves.GAS_FAST_S if self.fast else curves.GAS_QUIET_S
            self._due = now + timedelta(seconds=pace)
        return out

    def reading_payload(self) -> Payload:
        body: Payload = {"lel_pct": self.lel_pct, "alarm": self.alarm}
        if self.valve is not None:
            body["valve"] = self.valve
        return body

    # -- the valve -------------------------------------------------------------------------------

    def command(self, now: datetime, command_id: str) -> list[Message]:
        """A `set` command `{"valve": "close"}`: shut the valve and answer with the command's id
        (a closed valve answers again, for the new id). No valve fitted: no answer."""
        if self.valve is None:
            return []
        if self.valve == "open":
            self.valve, self.closed_at = "closed", now
        return [self.event(now, "valve_closed", id=command_id)]

    def open_by_hand(self, now: datetime) -> list[Message]:
        """Someone on site resets the valve (the engine never opens one): `valve_opened`."""
        if self.valve != "closed":
            return []
        self.valve, self.closed_at = "open", None
        return [self.event(now, "valve_opened")]
