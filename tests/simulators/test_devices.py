"""Device models: counters, clocks, heartbeats and wills, each kind's own behaviour."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from random import Random
from typing import Any

import pytest

from firewatch.ingest.decode import decode
from firewatch.ingest.records import DeviceEvent, Reading, Rejected
from firewatch.kernel import topics
from firewatch.kernel.contract import DeviceKind
from firewatch.simulators import curves, naming
from firewatch.simulators.devices import (
    ChargingStation,
    GasDetector,
    LoadDetector,
    PortSample,
    SmokeDetector,
    SmokeSample,
)
from firewatch.simulators.devices.base import Device, Profile
from firewatch.simulators.devices.smoke import FAST_S, QUIET_S
from firewatch.simulators.records import Message
from tests.simulators.helpers import LIMITS, registry_view, world

T0 = datetime(2026, 5, 1, 2, 0, tzinfo=UTC)
CLEAN = SmokeSample(smoke_obs=0.2, temp_c=22.0, co_ppm=1.0, humidity_pct=55.0)


def profile(**changes: object) -> Profile:
    base = {"heartbeat_s": 600, "offset_s": 0.0, "drift_ppm": 0.0, "epoch_ms": False,
            "echo_id": False, "fw": "SD-2.4.1", "battery_pct": 80.0, "rssi_dbm": -85.0}  # fmt: skip
    return Profile(**(base | changes))  # type: ignore[arg-type]


def detector(**changes: object) -> SmokeDetector:
    return SmokeDetector("SMK-V0001-01", profile(**changes), Random(1), synced_at=T0)


def body(message_payload: bytes) -> dict[str, object]:
    return dict(json.loads(message_payload))


def test_seq_counts_every_message_and_restarts_at_zero_after_a_reboot() -> None:
    d = detector()
    seqs = [body(d.status(T0 + timedelta(seconds=i)).payload)["seq"] for i in range(3)]
    assert seqs == [0, 1, 2]
    assert [m.payload for m in d.reboot(T0 + timedelta(hours=1))] == [b"online"]
    assert body(d.status(T0 + timedelta(hours=1)).payload)["seq"] == 0


def test_the_device_clock_drifts_and_is_written_as_rfc3339_or_epoch_ms() -> None:
    drifting = profile(offset_s=1.5, drift_ppm=50.0)
    fast = Device("SMK-X", DeviceKind.SMOKE, drifting, Random(1), synced_at=T0)
    day = T0 + timedelta(days=1)
    assert fast.device_time(day) - day == timedelta(seconds=1.5 + 86400 * 50e-6)
    rfc = body(detector().status(T0).payload)["ts"]
    assert rfc == "2026-05-01T10:00:00.000+08:00"
    ms = body(detector(epoch_ms=True).status(T0).payload)["ts"]
    assert ms == int(T0.timestamp() * 1000)


def test_status_carries_battery_only_for_battery_devices_and_the_will_is_retained() -> None:
    assert "battery_pct" in body(detector().status(T0).payload)
    assert "battery_pct" not in body(detector(battery_pct=None).status(T0).payload)
    d = detector(echo_id=True)
    assert body(d.status(T0).payload)["device_id"] == "SMK-V0001-01"
    topic, payload, qos, retain = d.last_will()
    assert (topic, payload, qos, retain) == (
        topics.availability("smoke", d.device_id),
        b"offline",
        1,
        True,
    )
    assert d.will(T0).will and d.online(T0).retain


def _observe(d: SmokeDetector, samples: list[SmokeSample], step_s: float = 5.0) -> list[str]:
    names = []
    for i, s in enumerate(samples):
        for m in d.observe(T0 + timedelta(seconds=i * step_s), s):
            if m.topic.endswith("/event"):
                names.append(str(body(m.payload)["event"]))
    return names


def test_a_single_spike_does_not_alarm_two_samples_do() -> None:
    smoky = SmokeSample(20.0, 22.0, 1.0, 55.0)
    assert _observe(detector(), [CLEAN, smoky, CLEAN, CLEAN]) == []
    assert _observe(detector(), [CLEAN, smoky, smoky, CLEAN, CLEAN]) == ["alarm", "alarm_cleared"]


def test_heat_alone_alarms_and_hush_raises_the_level() -> None:
    hot = SmokeSample(0.2, curves.HEAT_ALARM_C + 3, 1.0, 40.0)
    assert _observe(detector(), [hot, hot]) == ["alarm"]
    d = detector()
    toast = SmokeSample(15.0, 23.0, 1.0, 55.0)
    assert _observe(d, [toast, toast]) == ["alarm"]
    assert [body(m.payload)["event"] for m in d.press_hush(T0 + timedelta(seconds=11))] == [
        "silenced"
    ]
    later = [d.observe(T0 + timedelta(seconds=20 + i), toast) for i in range(3)]
    assert all(body(ms[-1].payload)["alarm"] is False for ms in later)  # under the hushed level


def test_readings_come_faster_while_something_changes() -> None:
    d = detector()
    d.observe(T0, CLEAN)
    assert d.next_at(T0) == T0 + timedelta(seconds=QUIET_S)
    d.observe(T0 + timedelta(seconds=60), SmokeSample(3.0, 22.0, 1.0, 55.0))
    assert d.next_at(T0 + timedelta(seconds=60)) == T0 + timedelta(seconds=60 + FAST_S)


def test_a_stuck_detector_repeats_itself_exactly() -> None:
    d = detector()
    d.stuck = d.sense(CLEAN)
    values = {
        body(d.observe(T0 + timedelta(minutes=i), SmokeSample(i, 22 + i, 1, 55))[-1].payload)[
            "smoke_obs"
        ]
        for i in range(5)
    }
    assert len(values) == 1


def test_a_station_trips_on_overtemperature_and_resets_when_unplugged() -> None:
    s = ChargingStation("CHG-V0001-01", profile(battery_pct=None), Random(1), synced_at=T0, ports=4)
    hot = PortSample("charging", 180.0, curves.PORT_OVERTEMP_C + 1)
    names = [body(m.payload).get("event") for m in s.observe(T0, 2, hot)]
    assert names[0] == "overtemp" and s.state[2] == "fault"
    reading = body(s.observe(T0 + timedelta(seconds=5), 2, hot)[-1].payload)
    assert reading["state"] == "fault" and reading["current_a"] == 0.0
    s.observe(T0 + timedelta(seconds=10), 2, PortSample("idle"))
    assert s.state[2] == "idle"
    answer = body(s.command(T0, 3, "cmd-7")[0].payload)
    assert answer["event"] == "power_off" and answer["id"] == "cmd-7" and answer["port"] == 3


def test_a_load_meter_measures_but_never_trips() -> None:
    m = LoadDetector("CHG-V0002-01", profile(battery_pct=None), Random(1), synced_at=T0)
    out = m.observe(T0, 0, PortSample("charging", 2000.0, 80.0))
    assert len(out) == 1 and body(out[0].payload)["state"] == "charging"
    assert body(m.recognise(T0, confidence=0.914)[0].payload)["confidence"] == 0.91


def test_the_charge_curve_is_flat_then_tapers() -> None:
    cc_s, full_s = curves.charge_seconds(200.0, 720.0, 0.5)
    flat = [curves.charge_power(t, 200.0, cc_s) for t in (0, cc_s / 2, cc_s)]
    assert min(flat) >= 0.9 * 200.0
    assert curves.charge_power(full_s, 200.0, cc_s) == pytest.approx(curves.FULL_W)
    assert curves.charge_energy(full_s, 200.0, cc_s) > curves.charge_energy(cc_s, 200.0, cc_s)


def gas_detector(valve: bool = True, **changes: object) -> GasDetector:
    p = profile(battery_pct=None, fw="GD-3.1.4", **changes)
    return GasDetector("GAS-V0001-01", p, Random(1), synced_at=T0, valve=valve)


def _sample(d: GasDetector, lel: Callable[[float], float], span_s: float) -> list[Message]:
    """Every message of `span_s` seconds of samples at the detector's own pace from T0."""
    out, now = [], T0
    while now < T0 + timedelta(seconds=span_s):
        out.extend(d.observe(now, lel((now - T0).total_seconds())))
        now = d.next_at(now)
    return out


def _b(message: Message) -> dict[str, Any]:
    return dict(json.loads(message.payload))


def _kinds(messages: list[Message]) -> list[str]:
    return [str(_b(m).get("event", "reading")) for m in messages]


def test_a_quiet_kitchen_reads_0_to_3_pct_lel_once_a_minute() -> None:
    out = _sample(gas_detector(), lambda _t: 1.5, 600)
    assert _kinds(out) == ["reading"] * 10
    assert [(m.at - T0).total_seconds() for m in out] == [60.0 * i for i in range(10)]
    for m in out:
        b = _b(m)
        assert 0.0 <= float(b["lel_pct"]) <= 3.0 and b["alarm"] is False and b["valve"] == "open"
    assert "valve" not in _b(_sample(gas_detector(valve=False), lambda _t: 1.5, 1)[0])


def test_gas_readings_come_every_5_s_from_5_pct_and_at_once_when_it_gets_there() -> None:
    out = _sample(gas_detector(), lambda t: 1.0 if t < 90 else 8.0, 150)
    times = [(m.at - T0).total_seconds() for m in out]
    assert times == [0.0, 60.0, 90.0, *(90.0 + 5 * i for i in range(1, 12))]
    assert all(float(_b(m)["lel_pct"]) >= 5.0 for m in out[2:])


def test_the_detector_alarms_at_20_pct_lel_and_clears_when_the_gas_falls() -> None:
    d = gas_detector()
    out = _sample(d, lambda t: 1.0 if t < 30 else 24.0 if t < 60 else 2.0, 120)
    events = [(m.at - T0, _b(m)) for m in out if m.topic.endswith("/event")]
    assert [e["event"] for _, e in events] == ["alarm", "alarm_cleared"]
    (alarm_at, alarm), (cleared_at, _) = events
    assert alarm_at == timedelta(seconds=30) and cleared_at == timedelta(seconds=60)
    assert float(alarm["lel_pct"]) >= curves.GAS_ALARM_LEL
    flags = [(m.at - T0, _b(m)["alarm"]) for m in out if m.topic.endswith("/reading")]
    assert all(flag is (alarm_at <= at < cleared_at) for at, flag in flags)
    assert not d.alarm


def test_a_close_command_shuts_the_valve_and_answers_with_its_id() -> None:
    d = gas_detector()
    _sample(d, lambda _t: 30.0, 10)
    later = T0 + timedelta(seconds=10)
    answer = d.command(later, "CMD-42")
    assert len(answer) == 1 and answer[0].topic == topics.event("gas", "GAS-V0001-01")
    b = _b(answer[0])
    assert (b["event"], b["id"]) == ("valve_closed", "CMD-42")
    assert d.valve == "closed" and d.closed_at == later
    assert _b(d.observe(later + timedelta(seconds=5), 29.0)[-1])["valve"] == "closed"
    again = _b(d.command(later + timedelta(seconds=6), "CMD-43")[0])
    assert again["id"] == "CMD-43" and d.closed_at == later  # shut already: answered, not moved
    assert [_b(m)["event"] for m in d.open_by_hand(later + timedelta(hours=1))] == ["valve_opened"]
    assert d.valve == "open" and d.closed_at is None
    assert gas_detector(valve=False).command(later, "CMD-44") == []  # nothing to close


def test_a_gas_detectors_messages_pass_the_ingest_decoder() -> None:
    device = next(
        d for d in world().devices if d.kind == DeviceKind.GAS and naming.has_valve(d.location)
    )
    d = GasDetector(device.device_id, profile(battery_pct=None), Random(2), synced_at=T0)
    out = [d.online(T0), d.status(T0)]
    out += _sample(d, lambda t: 1.0 if t < 60 else 26.0 if t < 120 else 3.0, 180)
    out += d.command(T0 + timedelta(seconds=100), "CMD-1")
    out += d.open_by_hand(T0 + timedelta(seconds=200))
    view = registry_view(world())
    names = set()
    for m in out:
        outcome = decode(m.topic, m.payload, m.at, view, LIMITS)
        assert not isinstance(outcome, Rejected), (outcome.reason, outcome.detail, m)
        names.add(getattr(outcome, "event", type(outcome).__name__))
        if isinstance(outcome, Reading):  # stored as sent
            sent = _b(m)
            assert (outcome.lel_pct, outcome.valve) == (sent["lel_pct"], sent["valve"])
        if isinstance(outcome, DeviceEvent) and outcome.event == "valve_closed":
            assert outcome.command_id == "CMD-1"
    assert names == {"Availability", "DeviceStatus", "Reading", "alarm", "alarm_cleared",
                     "valve_closed", "valve_opened"}  # fmt: skip
