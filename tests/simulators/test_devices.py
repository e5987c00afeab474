"""Device models: counters, clocks, heartbeats and wills, each kind's own behaviour."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from random import Random

import pytest

from kernel import topics
from kernel.contract import DeviceKind
from simulators import curves
from simulators.devices import ChargingStation, LoadDetector, PortSample, SmokeDetector, SmokeSample
from simulators.devices.base import Device, Profile
from simulators.devices.smoke import FAST_S, QUIET_S

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
